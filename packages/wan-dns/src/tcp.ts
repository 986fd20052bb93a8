/**
 * The TCP listeners (RFC 7766): two-byte length-prefixed messages, pipelined queries answered as they complete
 * (out of order, §6.2.1.1), idle timeouts (§6.2.3: a short one for the first query, a longer one after),
 * connection limits (global and per client address, idle connections evicted to make room: tcp-conns.ts) and
 * a per-connection in-flight limit.
 */
import { OsError, type Stream, type StreamEvents, streams, type TimerHandle, timers } from '@meshwan/os';
import type { Endpoint } from '@meshwan/site';
import { read16, write16 } from './bytes.js';
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

/** A connection's inactivity timer (Node's socket.setTimeout): re-armed by every read and write. */
class IdleTimer {
  private timer: TimerHandle | undefined;
  private ms = 0;

  constructor(private readonly onIdle: () => void) {}

  set(ms: number): void {
    this.ms = ms;
    this.touch();
  }

  touch(): void {
    if (this.timer !== undefined) timers.clear(this.timer);
    this.timer = timers.after(this.ms, () => {
      this.timer = undefined;
      this.onIdle();
    });
  }

  stop(): void {
    if (this.timer !== undefined) timers.clear(this.timer);
    this.timer = undefined;
  }
}

function serve(stream: Stream, forwarder: Forwarder, counters: Counters, limits: TcpLimits, conns: TcpConnections): StreamEvents {
  let buffer: Uint8Array = new Uint8Array(0);
  let pending = 0;
  let closed = false;
  let queried = false;
  let paused = false;
  const conn: TcpConn = {
    source: stream.remoteAddress,
    busy: () => pending > 0 || stream.pendingBytes > 0,
    close: () => stream.close(),
  };
  const idle = new IdleTimer(() => {
    // A query still waiting for its upstream keeps the connection (the forwarder's deadline bounds it).
    if (conn.busy()) {
      idle.touch();
      return;
    }
    counters.tcpTimeouts++;
    stream.close();
  });
  const events: StreamEvents = {
    onData: (chunk) => {
      idle.touch();
      if (buffer.length === 0) buffer = chunk;
      else {
        const joined = new Uint8Array(buffer.length + chunk.length);
        joined.set(buffer);
        joined.set(chunk, buffer.length);
        buffer = joined;
      }
      pump();
    },
    onClose: () => {
      closed = true;
      idle.stop();
      conns.remove(conn);
    },
  };
  if (!conns.admit(conn)) {
    closed = true;
    stream.close();
    return { onData: () => {}, onClose: () => {} };
  }
  idle.set(limits.initialTimeoutMs ?? DEFAULT_TCP_INITIAL_MS);
  const pump = (): void => {
    while (buffer.length >= 2 && pending < limits.maxPipelined) {
      const length = read16(buffer, 0);
      if (buffer.length < 2 + length) break;
      const msg = buffer.slice(2, 2 + length);
      buffer = buffer.subarray(2 + length);
      counters.tcpQueries++;
      pending++;
      conns.touch(conn);
      if (!queried) {
        queried = true;
        idle.set(limits.idleTimeoutMs);
      }
      let willReply = false;
      try {
        willReply = forwarder.handle(msg, false, (answer) => {
          pending--;
          if (closed) return;
          const framed = new Uint8Array(2 + answer.length);
          write16(framed, answer.length, 0);
          framed.set(answer, 2);
          stream.write(framed);
          idle.touch();
          conns.touch(conn);
          if (paused && pending < limits.maxPipelined) {
            paused = false;
            stream.resume();
            pump();
          }
        });
      } catch (err: unknown) {
        forwarder.internalError(err);
      }
      // A dropped message (no header, a response, the in-flight limit) gets no reply: count it back.
      if (!willReply) pending--;
    }
    if (pending >= limits.maxPipelined && !paused) {
      paused = true;
      stream.pause();
    }
  };
  return events;
}

/** A TCP listener; close() stops accepting (open connections finish on their own timers). */
export interface TcpListener {
  close(): void;
}

export async function listenTcp(
  endpoint: Endpoint,
  forwarder: Forwarder,
  counters: Counters,
  allowRemote: boolean,
  limits: TcpLimits,
  conns: TcpConnections = tcpConnections(limits, counters),
): Promise<TcpListener> {
  const clients = new LocalClients(allowRemote);
  try {
    return await streams.listen({ family: endpoint.family, address: endpoint.address, port: endpoint.port }, (stream) => {
      counters.tcpConnections++;
      if (!clients.allowed(stream.remoteAddress)) {
        counters.refusedClients++;
        stream.close();
        return { onData: () => {}, onClose: () => {} };
      }
      return serve(stream, forwarder, counters, limits, conns);
    });
  } catch (err: unknown) {
    throw new StartError(`tcp ${endpointKey(endpoint)}`, err instanceof OsError ? err.code : String(err));
  }
}
