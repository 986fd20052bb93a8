/**
 * The upstream servers and the choice among them: fastest responder first (smoothed RTT, as dnsmasq's
 * "fastest server" and BIND's SRTT), failed servers pushed to the back and re-probed in parallel later.
 * No I/O here: the forwarder reports answers, timeouts and errors; times are passed in (ms, monotonic).
 */
import type { Endpoint } from '@meshwan/site';

/** Per-server counters, as printed by `wan-dns --status`. */
export interface ServerStats {
  server: string;
  queries: number;
  answers: number;
  timeouts: number;
  servfail: number;
  refused: number;
  truncated: number;
  tcp: number;
  /** Smoothed round-trip time in ms; null until the first answer. */
  srttMs: number | null;
  down: boolean;
}

/** An endpoint as text: `192.0.2.1:53`, `[2001:db8::1]:53`, `[fe80::1%wan]:53`. */
export function endpointKey(e: Endpoint): string {
  const host = e.family === 6 ? `[${e.address}${e.scope ? `%${e.scope}` : ''}]` : e.address;
  return `${host}:${e.port}`;
}

/** The longest per-attempt timeout; also how long a query may wait for a route during a renumbering. */
const MAX_ATTEMPT_TIMEOUT_MS = 1000;

export class Server {
  readonly key: string;
  /** The address as dgram needs it to send and as it reports a sender (`fe80::1%wan`). */
  readonly sendAddress: string;
  srttMs: number | null = null;
  consecutiveFailures = 0;
  /** Until this time the server is only probed, never asked first. */
  downUntilMs = 0;
  /** Time of the last parallel probe, so a down server is probed at most once per back-off. */
  lastProbeMs = 0;
  /** Why a marked packet to it has no route now (route-watch.ts); set: down, never probed, until the route returns. */
  routeDown: string | undefined;
  /** The source address its route uses (route-watch.ts); attempts remember it, so a vanished one is resent. */
  routeSource: string | undefined;
  /**
   * Until this time (ms, monotonic) its route is gone because the WAN is being renumbered (an address left its
   * link, which still has carrier): queries with no routable server wait for the route instead of failing.
   */
  holdUntilMs = 0;
  readonly stats = { queries: 0, answers: 0, timeouts: 0, servfail: 0, refused: 0, truncated: 0, tcp: 0 };

  constructor(readonly endpoint: Endpoint) {
    this.key = endpointKey(endpoint);
    this.sendAddress = endpoint.scope ? `${endpoint.address}%${endpoint.scope}` : endpoint.address;
  }

  /** True when `address`/`port` (as dgram reports a sender) is this server. */
  matches(address: string, port: number): boolean {
    return port === this.endpoint.port && (address === this.sendAddress || address.toLowerCase() === this.sendAddress.toLowerCase());
  }

  isDown(nowMs: number): boolean {
    return this.routeDown !== undefined || (this.consecutiveFailures > 0 && nowMs < this.downUntilMs);
  }

  /** Its route returned: up again, but probed in parallel (as after a back-off) before it is trusted first. */
  routeBack(): void {
    this.routeDown = undefined;
    this.consecutiveFailures = Math.max(1, this.consecutiveFailures);
    this.downUntilMs = 0;
    this.lastProbeMs = 0;
  }

  /** An answer arrived after `rttMs`: the server is up; RTT smoothed with gain 1/8 (RFC 6298 §2). */
  answered(rttMs: number): void {
    this.stats.answers++;
    this.srttMs = this.srttMs === null ? rttMs : this.srttMs + (rttMs - this.srttMs) / 8;
    this.consecutiveFailures = 0;
    this.downUntilMs = 0;
  }

  /** A timeout, SERVFAIL or REFUSED: back off 1 s, 2 s, 4 s ... up to 30 s before it is asked first again. */
  failed(nowMs: number): void {
    this.consecutiveFailures++;
    const backoffMs = Math.min(30_000, 1000 * 2 ** Math.min(this.consecutiveFailures - 1, 5));
    this.downUntilMs = nowMs + backoffMs;
  }

  /** How long to wait for this server before asking the next: 3 x SRTT within 100..1000 ms, 400 ms unknown. */
  attemptTimeoutMs(): number {
    if (this.srttMs === null) return 400;
    return Math.min(MAX_ATTEMPT_TIMEOUT_MS, Math.max(100, Math.round(this.srttMs * 3 + 20)));
  }

  snapshot(nowMs: number): ServerStats {
    return {
      server: this.key,
      ...this.stats,
      srttMs: this.srttMs === null ? null : Math.round(this.srttMs * 1000) / 1000,
      down: this.isDown(nowMs),
    };
  }
}

/** How often every server is probed in parallel so a slow server that got fast is noticed (dnsmasq: 10 s). */
export const PROBE_INTERVAL_MS = 10_000;
/** What probes() returns when no server is due: one shared empty list, not an allocation per query. */
const NO_PROBES: readonly Server[] = [];

export class Upstreams {
  private servers: Server[] = [];
  private order: Server[] = [];
  private orderValidUntilMs = -1;
  private lastFullProbeMs = 0;

  /** Replaces the list; servers kept across a reload keep their RTT and counters. In-flight queries keep theirs. */
  set(endpoints: readonly Endpoint[]): void {
    const old = new Map(this.servers.map((s) => [s.key, s]));
    const next: Server[] = [];
    const seen = new Set<string>();
    for (const e of endpoints) {
      const key = endpointKey(e);
      if (seen.has(key)) continue;
      seen.add(key);
      next.push(old.get(key) ?? new Server(e));
    }
    this.servers = next;
    this.orderValidUntilMs = -1;
  }

  list(): readonly Server[] {
    return this.servers;
  }

  /** Forgets the cached order (an RTT or a failure changed). */
  invalidate(): void {
    this.orderValidUntilMs = -1;
  }

  /**
   * Servers in the order to ask them: up servers by SRTT (unmeasured first, so they get measured), then down
   * servers by when their back-off ends. Recomputed at most every 100 ms or after invalidate().
   */
  ordered(nowMs: number): readonly Server[] {
    if (nowMs < this.orderValidUntilMs) return this.order;
    const up = this.servers.filter((s) => !s.isDown(nowMs));
    const down = this.servers.filter((s) => s.isDown(nowMs));
    // A server back from a failure is probed in parallel (probes()) before it is trusted first again.
    up.sort((a, b) => Number(a.consecutiveFailures > 0) - Number(b.consecutiveFailures > 0) || (a.srttMs ?? -1) - (b.srttMs ?? -1));
    down.sort((a, b) => Number(a.routeDown !== undefined) - Number(b.routeDown !== undefined) || a.downUntilMs - b.downUntilMs);
    this.order = up.concat(down);
    this.orderValidUntilMs = nowMs + 100;
    return this.order;
  }

  /**
   * Servers to ask in parallel with the first choice: every other server once per PROBE_INTERVAL_MS, and a
   * failed server once its back-off has passed. Their answers update SRTT; the first valid answer wins.
   */
  probes(nowMs: number, first: Server): readonly Server[] {
    let out: Server[] | undefined;
    // The first interval starts with the first query: config order decides until then (no burst at start).
    if (this.lastFullProbeMs === 0) this.lastFullProbeMs = nowMs;
    const full = nowMs - this.lastFullProbeMs >= PROBE_INTERVAL_MS;
    if (full) this.lastFullProbeMs = nowMs;
    for (const s of this.servers) {
      if (s === first || s.routeDown !== undefined) continue;
      const due = s.consecutiveFailures > 0 && nowMs >= s.downUntilMs && nowMs - s.lastProbeMs >= 1000;
      if (full || due) {
        s.lastProbeMs = nowMs;
        if (out === undefined) out = [];
        out.push(s);
      }
    }
    return out ?? NO_PROBES;
  }
}
