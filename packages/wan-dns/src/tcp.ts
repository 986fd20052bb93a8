/**
 * The TCP listeners (RFC 7766): two-byte length-prefixed messages, pipelined queries answered as they complete
 * (out of order, §6.2.1.1), idle timeouts (§6.2.3: a short one for the first query, a longer one after),
 * connection limits (global and per client address, idle connections evicted to make room: tcp-conns.ts) and
 * a per-connection in-flight limit.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Endpoint } from '@meshwan/site';
import { LocalClients } from './clients.js';
import { StartError } from './errors.js';
import type { Forwarder } from './forwarder.js';
import type { Counters } from './stats.js';
import { type TcpConn, TcpConnections } from './tcp-conns.js';
import { endpointKey } from './upstreams.js';

export interface TcpLimits {
  /** Connections over all listeners (`--max-tcp`, 64). */
  maxConnections: number;
  /** Connections per client address (`--max-tcp-per-client`, DEFAULT_TCP_PER_CLIENT). */
  maxPerClient?: number;
  /** A new connection must bring its first query within this (`--tcp-initial-timeout`, DEFAULT_TCP_INITIAL_MS). */
  initialTimeoutMs?: number;
  /** After the first query, a connection idle this long is closed (`--tcp-idle-timeout`, 10 s). */
  idleTimeoutMs: number;
  /** Queries one connection may have in flight; reading pauses beyond it. */
  maxPipelined: number;
}

/**
 * Per client address: a few parallel connections each for the node's own processes, which share 127.0.0.1;
 * dnsdist's setMaxTCPConnectionsPerClient defaults to unlimited, which is no defence on a router.
 */
export const DEFAULT_TCP_PER_CLIENT = 16;
/** dnsdist's setTCPRecvTimeout default: a client that connects must send its query within 2 s. */
export const DEFAULT_TCP_INITIAL_MS = 2000;

/** The table of open connections for `limits` (one for all listeners: the caps are over all of them). */
export function tcpConnections(limits: TcpLimits, counters: Counters): TcpConnections {
  return new TcpConnections(limits.maxConnections, limits.maxPerClient ?? DEFAULT_TCP_PER_CLIENT, counters);
}

function serve(socket: Socket, forwarder: Forwarder, counters: Counters, limits: TcpLimits, conns: TcpConnections): void {
  let buffer: Buffer = Buffer.alloc(0);
  let pending = 0;
  let closed = false;
  let queried = false;
  const conn: TcpConn = {
    source: socket.remoteAddress ?? '',
    busy: () => pending > 0 || socket.writableLength > 0,
    close: () => socket.destroy(),
  };
  if (!conns.admit(conn)) {
    socket.destroy();
    return;
  }
  socket.setNoDelay(true);
  socket.setTimeout(limits.initialTimeoutMs ?? DEFAULT_TCP_INITIAL_MS);
  // `on`, not setTimeout's callback (a `once`): the timer is re-armed by the next read or write.
  socket.on('timeout', () => {
    // A query still waiting for its upstream keeps the connection (the forwarder's deadline bounds it).
    if (conn.busy()) return;
    counters.tcpTimeouts++;
    socket.destroy();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    conns.remove(conn);
  });
  const pump = (): void => {
    while (buffer.length >= 2 && pending < limits.maxPipelined) {
      const length = buffer.readUInt16BE(0);
      if (buffer.length < 2 + length) break;
      const msg = Buffer.from(buffer.subarray(2, 2 + length));
      buffer = buffer.subarray(2 + length);
      counters.tcpQueries++;
      pending++;
      conns.touch(conn);
      if (!queried) {
        queried = true;
        socket.setTimeout(limits.idleTimeoutMs);
      }
      let willReply = false;
      try {
        willReply = forwarder.handle(msg, false, (answer) => {
          pending--;
          if (closed) return;
          const framed = Buffer.allocUnsafe(2 + answer.length);
          framed.writeUInt16BE(answer.length, 0);
          answer.copy(framed, 2);
          socket.write(framed);
          conns.touch(conn);
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
  conns: TcpConnections = tcpConnections(limits, counters),
): Promise<NetServer> {
  const clients = new LocalClients(allowRemote);
  const server = createServer({ pauseOnConnect: false }, (socket) => {
    counters.tcpConnections++;
    if (!clients.allowed(socket.remoteAddress ?? '')) {
      counters.refusedClients++;
      socket.destroy();
      return;
    }
    serve(socket, forwarder, counters, limits, conns);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new StartError(`tcp ${endpointKey(endpoint)}`, err.code ?? err.message)));
    server.listen({ port: endpoint.port, host: endpoint.address, ipv6Only: endpoint.family === 6, exclusive: true }, () => resolve());
  });
  return server;
}
