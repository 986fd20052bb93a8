/**
 * Admission of TCP client connections, shared by every TCP listener: a global cap and a cap per client
 * address. At a cap, the least recently active *idle* connection (no query in flight, nothing left to write)
 * is closed to make room, so a flood of idle connections cannot lock out a new client (RFC 7766 §6.2.3 lets a
 * server close idle connections; clients reconnect). Only when every connection concerned is busy is the new
 * one refused. dnsdist refuses a client over its setMaxTCPConnectionsPerClient instead; here most clients share
 * one address (127.0.0.1: the node's own processes and the mesh-VPN group's redirected lookups), so a refused
 * newcomer would often be a legitimate one, and its address's oldest idle connection goes instead.
 */
import type { Counters } from './stats.js';

/** One client connection as the table sees it. */
export interface TcpConn {
  /** The client's address (the per-client key). */
  readonly source: string;
  /** True while a query is in flight or an answer not yet written: never closed to make room. */
  busy(): boolean;
  /** Closes it at once (made room for another). */
  close(): void;
}

export class TcpConnections {
  /** Every open connection, least recently active first (a Set keeps insertion order; touch() re-inserts). */
  private readonly all = new Set<TcpConn>();
  private readonly bySource = new Map<string, Set<TcpConn>>();

  constructor(
    private readonly maxConnections: number,
    private readonly maxPerClient: number,
    private readonly counters: Counters,
  ) {}

  get size(): number {
    return this.all.size;
  }

  /** Connections open from `source`. */
  countFrom(source: string): number {
    return this.bySource.get(source)?.size ?? 0;
  }

  /**
   * Takes `conn` in, closing an idle connection when a cap is reached: first its own address's least recently
   * active one, then the least recently active of all. False (and counted) when no room can be made.
   */
  admit(conn: TcpConn): boolean {
    let mine = this.bySource.get(conn.source);
    if (mine !== undefined && mine.size >= this.maxPerClient) {
      if (!this.evictFrom(mine)) {
        this.counters.tcpRefused++;
        return false;
      }
      this.counters.tcpEvictedClient++;
    }
    if (this.all.size >= this.maxConnections) {
      if (!this.evictFrom(this.all)) {
        this.counters.tcpRefused++;
        return false;
      }
      this.counters.tcpEvicted++;
    }
    if (mine === undefined) {
      mine = new Set();
      this.bySource.set(conn.source, mine);
    }
    mine.add(conn);
    this.all.add(conn);
    return true;
  }

  /** `conn` did something (a query read, an answer written): it is now the most recently active. */
  touch(conn: TcpConn): void {
    if (!this.all.delete(conn)) return;
    this.all.add(conn);
    const mine = this.bySource.get(conn.source);
    if (mine?.delete(conn)) mine.add(conn);
  }

  /** `conn` closed (by either side). */
  remove(conn: TcpConn): void {
    if (!this.all.delete(conn)) return;
    const mine = this.bySource.get(conn.source);
    mine?.delete(conn);
    if (mine?.size === 0) this.bySource.delete(conn.source);
  }

  /** Closes the least recently active idle connection of `set`; false when all are busy. */
  private evictFrom(set: Set<TcpConn>): boolean {
    for (const conn of set) {
      if (conn.busy()) continue;
      this.remove(conn);
      conn.close();
      return true;
    }
    return false;
  }
}
