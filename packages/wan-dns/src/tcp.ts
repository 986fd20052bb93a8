/**
 * The TCP listeners (RFC 7766): two-byte length-prefixed messages, pipelined queries answered as they complete
 * (out of order, §6.2.1.1), an idle timeout (§6.2.3), a connection limit and a per-connection in-flight limit.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Endpoint } from '@meshwan/site';
import { LocalClients } from './clients.js';
import { StartError } from './errors.js';
import type { Forwarder } from './forwarder.js';
import type { Counters } from './stats.js';
import { endpointKey } from './upstreams.js';

export interface TcpLimits {
  maxConnections: number;
  idleTimeoutMs: number;
  /** Queries one connection may have in flight; reading pauses beyond it. */
  maxPipelined: number;
}

function serve(socket: Socket, forwarder: Forwarder, counters: Counters, limits: TcpLimits): void {
  let buffer: Buffer = Buffer.alloc(0);
  let pending = 0;
  let closed = false;
  socket.setNoDelay(true);
  socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
  });
  const pump = (): void => {
    while (buffer.length >= 2 && pending < limits.maxPipelined) {
      const length = buffer.readUInt16BE(0);
      if (buffer.length < 2 + length) break;
      const msg = Buffer.from(buffer.subarray(2, 2 + length));
      buffer = buffer.subarray(2 + length);
      counters.tcpQueries++;
      pending++;
      let willReply = false;
      try {
        willReply = forwarder.handle(msg, false, (answer) => {
          pending--;
          if (closed) return;
          const framed = Buffer.allocUnsafe(2 + answer.length);
          framed.writeUInt16BE(answer.length, 0);
          answer.copy(framed, 2);
          socket.write(framed);
          if (socket.isPaused() && pending < limits.maxPipelined) {
            socket.resume();
            pump();
          }
        });
      } catch (err: unknown) {
        forwarder.internalError(err);
      }
      // A dropped message (no header, a response, the in-flight limit) gets no reply: count it back.
      if (!willReply) pending--;
    }
    if (pending >= limits.maxPipelined) socket.pause();
  };
  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    pump();
  });
}

export async function listenTcp(
  endpoint: Endpoint,
  forwarder: Forwarder,
  counters: Counters,
  allowRemote: boolean,
  limits: TcpLimits,
): Promise<NetServer> {
  const clients = new LocalClients(allowRemote);
  const server = createServer({ pauseOnConnect: false }, (socket) => {
    counters.tcpConnections++;
    if (!clients.allowed(socket.remoteAddress ?? '')) {
      counters.refusedClients++;
      socket.destroy();
      return;
    }
    serve(socket, forwarder, counters, limits);
  });
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => {
    counters.tcpRefused++;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new StartError(`tcp ${endpointKey(endpoint)}`, err.code ?? err.message)));
    server.listen({ port: endpoint.port, host: endpoint.address, ipv6Only: endpoint.family === 6, exclusive: true }, () => resolve());
  });
  return server;
}
