/**
 * One query over TCP to an upstream (RFC 7766 §8: two-byte length prefix), used when a UDP answer came back
 * truncated. The socket is created marked by the addon and its mark read back before connect(), because the
 * SYN is already a packet that must take the WAN table.
 */
import { Socket } from 'node:net';
import { MarkError } from './errors.js';
import { markSocket, type SockmarkAddon } from './mark.js';
import type { Server } from './upstreams.js';

class TcpUpstreamError extends Error {
  override readonly name = 'TcpUpstreamError';
  /** thrown when the TCP exchange with `server` fails: connect error, early close, oversized or short answer, timeout. */
  constructor(
    readonly server: string,
    readonly reason: string,
  ) {
    super(`tcp ${server}: ${reason}`);
  }
}

/** Sends `query` to `server` over a marked TCP connection; resolves with the answer message (no length prefix). */
export function tcpExchange(
  addon: SockmarkAddon | MarkError,
  server: Server,
  mark: number,
  query: Uint8Array,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (addon instanceof MarkError) return reject(new MarkError('load', mark, addon.code));
    let fd: number;
    try {
      fd = addon.tcpSocket(server.endpoint.family, mark);
    } catch (err: unknown) {
      const code = (err as { code?: unknown }).code;
      return reject(new MarkError('setMark', mark, typeof code === 'string' ? code : ''));
    }
    const markErr = markSocket(addon, fd, mark, false);
    if (markErr) {
      addon.closeFd(fd);
      return reject(markErr);
    }
    const socket = new Socket({ fd, readable: true, writable: true, pauseOnCreate: true } as ConstructorParameters<typeof Socket>[0]);
    const chunks: Buffer[] = [];
    let have = 0;
    let settled = false;
    const done = (err: Error | undefined, answer?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(answer as Buffer);
    };
    const timer = setTimeout(() => done(new TcpUpstreamError(server.key, `no answer within ${timeoutMs} ms`)), timeoutMs);
    // route-watch.ts closes the connection when the route to the server goes away or its source address changes.
    signal?.addEventListener('abort', () => done(new TcpUpstreamError(server.key, `closed: ${String(signal.reason)} changed`)), {
      once: true,
    });
    socket.on('error', (err) => done(new TcpUpstreamError(server.key, (err as NodeJS.ErrnoException).code ?? err.message)));
    socket.on('close', () => done(new TcpUpstreamError(server.key, 'closed before a whole answer')));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (have < 2) return;
      const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const length = all.readUInt16BE(0);
      if (have >= 2 + length) done(undefined, Buffer.from(all.subarray(2, 2 + length)));
    });
    socket.connect(server.endpoint.port, server.sendAddress, () => {
      const framed = Buffer.allocUnsafe(2 + query.length);
      framed.writeUInt16BE(query.length, 0);
      framed.set(query, 2);
      socket.resume();
      socket.write(framed);
    });
  });
}
