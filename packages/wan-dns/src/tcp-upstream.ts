/**
 * One query over TCP to an upstream (RFC 7766 §8: two-byte length prefix), used when a UDP answer came back
 * truncated. The socket is created marked by the seam (native/netio.c) and its mark read back before connect(),
 * because the SYN is already a packet that must take the WAN table.
 */
import { type OsError, streams, timers } from '@meshwan/os';
import { read16, write16 } from './bytes.js';
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

/** Closes an exchange from outside (route-watch.ts: the route or the source address changed); AbortController's job. */
export class Abort {
  reason: string | undefined;
  private listener: ((reason: string) => void) | undefined;

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  abort(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.listener?.(reason);
  }

  onAbort(fn: (reason: string) => void): void {
    this.listener = fn;
  }
}

/** Sends `query` to `server` over a marked TCP connection; resolves with the answer message (no length prefix). */
export function tcpExchange(
  addon: SockmarkAddon | MarkError,
  server: Server,
  mark: number,
  query: Uint8Array,
  timeoutMs: number,
  abort?: Abort,
): Promise<Uint8Array> {
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
    let got = new Uint8Array(0);
    let settled = false;
    const done = (err: Error | undefined, answer?: Uint8Array): void => {
      if (settled) return;
      settled = true;
      timers.clear(timer);
      stream.close();
      if (err || answer === undefined) reject(err);
      else resolve(answer);
    };
    const timer = timers.after(timeoutMs, () => done(new TcpUpstreamError(server.key, `no answer within ${timeoutMs} ms`)));
    const e = server.endpoint;
    const stream = streams.connect(
      { family: e.family, address: e.address, port: e.port, scope: e.scope, fd },
      {
        onConnect: () => {
          const framed = new Uint8Array(2 + query.length);
          write16(framed, query.length, 0);
          framed.set(query, 2);
          stream.write(framed);
        },
        onData: (chunk) => {
          const all = new Uint8Array(got.length + chunk.length);
          all.set(got);
          all.set(chunk, got.length);
          got = all;
          if (got.length >= 2 && got.length >= 2 + read16(got, 0)) done(undefined, got.slice(2, 2 + read16(got, 0)));
        },
        onClose: (err: OsError | undefined) => done(new TcpUpstreamError(server.key, err ? err.code : 'closed before a whole answer')),
      },
    );
    // route-watch.ts closes the connection when the route to the server goes away or its source address changes.
    abort?.onAbort((reason) => done(new TcpUpstreamError(server.key, `closed: ${reason} changed`)));
  });
}
