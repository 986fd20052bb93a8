/** Counters of the forwarder, printed on SIGUSR1 and by `wan-dns --status`. */
import { formatRoute, type RouteState } from './route-state.js';
import type { RouteWatchStatus } from './route-watch.js';
import type { ServerStats } from './upstreams.js';

export interface Counters {
  /** Client queries received (UDP and TCP), malformed ones included. */
  queries: number;
  udpQueries: number;
  tcpQueries: number;
  /** Answers sent to clients. */
  answers: number;
  cacheHits: number;
  cacheMisses: number;
  /** Queries answered SERVFAIL by us (no upstream, all failed, deadline, unmarked). */
  servfail: number;
  /** Malformed client packets: dropped (no header) or answered FORMERR. */
  malformed: number;
  formerr: number;
  notimp: number;
  /** Clients outside loopback that were ignored. */
  refusedClients: number;
  /** Sends refused because no upstream socket carried the WAN mark (gluon #3613). */
  refusedUnmarked: number;
  /** Queries dropped because the in-flight limit was reached. */
  droppedInflight: number;
  /** Upstream packets with an unknown ID or from another address or with another question. */
  strayAnswers: number;
  /**
   * Of those, packets that carried the random ID of a query waiting for its answer but came from another
   * address or port, or asked another question: forgeries (RFC 5452), dropped while the query waits on.
   */
  forgedAnswers: number;
  badAnswers: number;
  tcpRetries: number;
  /** TCP client connections accepted (before the client check). */
  tcpConnections: number;
  /** TCP client connections closed at once: at a limit, with no idle connection to make room. */
  tcpRefused: number;
  /** Idle TCP connections closed to make room for a new one: at the global limit (`--max-tcp`), the least recently active of all. */
  tcpEvicted: number;
  /** Idle TCP connections closed to make room for a new one from the same client address (`--max-tcp-per-client`). */
  tcpEvictedClient: number;
  /** TCP connections closed by their idle timeout (no first query within the initial timeout, or idle too long after). */
  tcpTimeouts: number;
  reloads: number;
  reloadErrors: number;
  /** Exceptions on the query path (bugs): logged once, never fatal. */
  internalErrors: number;
  /** UDP attempts and TCP connections moved off a server at once because its route went away (route-watch.ts). */
  routeFailovers: number;
  /** Queries answered SERVFAIL at once because no upstream had a route. */
  routeServfail: number;
  /** Attempts sent again because the source address they left from vanished (an address change). */
  routeResends: number;
  /** Queries held while the WAN was being renumbered (no route for a moment), instead of failed. */
  held: number;
  /** Held queries answered SERVFAIL because no route came back within the hold (nothing was sent). */
  heldServfail: number;
  /** The longest time a query was held (ms). */
  heldMaxMs: number;
}

export function newCounters(): Counters {
  return {
    queries: 0,
    udpQueries: 0,
    tcpQueries: 0,
    answers: 0,
    cacheHits: 0,
    cacheMisses: 0,
    servfail: 0,
    malformed: 0,
    formerr: 0,
    notimp: 0,
    refusedClients: 0,
    refusedUnmarked: 0,
    droppedInflight: 0,
    strayAnswers: 0,
    forgedAnswers: 0,
    badAnswers: 0,
    tcpRetries: 0,
    tcpConnections: 0,
    tcpRefused: 0,
    tcpEvicted: 0,
    tcpEvictedClient: 0,
    tcpTimeouts: 0,
    reloads: 0,
    reloadErrors: 0,
    internalErrors: 0,
    routeFailovers: 0,
    routeServfail: 0,
    routeResends: 0,
    held: 0,
    heldServfail: 0,
    heldMaxMs: 0,
  };
}

export interface StatusReport {
  pid: number;
  uptimeSeconds: number;
  mark: string;
  markedSockets: number;
  poolSockets: number;
  inflight: number;
  cacheSize: number;
  cacheEntries: number;
  upstreamSource: string;
  counters: Counters;
  servers: ServerStats[];
  /** Route awareness (route-watch.ts): its state, counters and each server's route. */
  routes?: RouteReport;
}

export interface RouteReport extends RouteWatchStatus {
  /** 'on', or why not: 'off (--no-route-watch)', 'off: netlink: ...'. */
  state: string;
  /** Whole upstream socket pools replaced after an address change. */
  poolRenewals: number;
  servers: (RouteState & { server: string })[];
}

/** The status as text: `key value` lines, then one line per server. */
export function formatStatus(s: StatusReport): string {
  const lines = [
    `pid ${s.pid}`,
    `uptime ${s.uptimeSeconds}s`,
    `mark ${s.mark}`,
    `upstream-sockets ${s.markedSockets}/${s.poolSockets} marked`,
    `inflight ${s.inflight}`,
    `cache ${s.cacheEntries}/${s.cacheSize}`,
    `upstreams from ${s.upstreamSource}`,
  ];
  for (const [k, v] of Object.entries(s.counters)) lines.push(`${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${v}`);
  const r = s.routes;
  if (r !== undefined) {
    lines.push(
      `route-watch ${r.state} events ${r.events} evaluations ${r.evaluations} resyncs ${r.resyncs} changes ${r.changes} sources-gone ${r.sourcesGone} disagreements ${r.disagreements} pool-renewals ${r.poolRenewals}`,
    );
  }
  for (const sv of s.servers) {
    lines.push(
      `server ${sv.server} ${sv.down ? 'down' : 'up'} srtt ${sv.srttMs === null ? '-' : `${sv.srttMs}ms`} queries ${sv.queries} answers ${sv.answers} timeouts ${sv.timeouts} servfail ${sv.servfail} refused ${sv.refused} truncated ${sv.truncated} tcp ${sv.tcp}`,
    );
  }
  for (const rs of r?.servers ?? []) lines.push(`route ${rs.server} ${formatRoute(rs)}`);
  return `${lines.join('\n')}\n`;
}
