/**
 * Route awareness: @meshwan/netlink's Monitor keeps a RouteCache exact (links, addresses, routes, rules); after
 * every batch of events each upstream's route is looked up again as a packet with the WAN mark would be routed
 * (route-state.ts), and the daemon is told when a server's route is lost, comes back, or moves (other device
 * or other source address: a DHCP renew to a new address, a switch of uplink). On ENOBUFS the Monitor discards
 * what it queued, dumps everything again and emits `resynced`; everything is then evaluated again, so a lost
 * event never leaves a server believed reachable (libwebsockets' monitor does not resync after an overrun).
 * Reading routes needs no privilege; if netlink cannot be opened at all the forwarder runs without this.
 */

import { type Address, Monitor, type MonitorEvent, Netlink, NetlinkError, type Route } from '@meshwan/netlink';
import { type TimerHandle, timers } from '@meshwan/os';
import type { Logger } from './log.js';
import { formatRoute, type RouteState, routeChange, routeState } from './route-state.js';
import type { Server } from './upstreams.js';

export interface RouteWatchHooks {
  /**
   * The server's route disappeared or became unreachable/prohibit/blackhole (or its link went down).
   * `renumbering`: an address left the link the route used within RENUMBER_MS and the link still has carrier,
   * so a new address (and route) is likely on its way: udhcpc's `deconfig`, odhcp6c withdrawing a prefix.
   */
  lost(server: Server, state: RouteState, renumbering: boolean): void;
  /** A lost server's renumbering began (the address left after the route did) or ended (carrier lost, time up). */
  renumbering(server: Server, on: boolean): void;
  /** It has a route again. */
  back(server: Server, state: RouteState): void;
  /** Still reachable, but through another device or from another source address. */
  moved(server: Server, before: RouteState, after: RouteState): void;
  /**
   * A source address the server's queries left from (now, or within the last `SOURCE_MEMORY_MS`) is no longer
   * an address of this node: answers to what was sent from it can never arrive.
   */
  sourceGone(server: Server, source: string): void;
}

/** How long a source address the route no longer uses is remembered: a query's whole deadline and then some. */
const SOURCE_MEMORY_MS = 3000;

/** What RTM_GETROUTE answers for no route, an unreachable/prohibit route, a blackhole route. */
const NO_ROUTE = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'EACCES', 'EINVAL']);

/** How long after an address left a link (with carrier) a lost route counts as a renumbering in progress. */
export const RENUMBER_MS = 3000;

export interface RouteWatchOptions {
  mark: number;
  /** The current upstream list (it changes on reload). */
  servers(): readonly Server[];
  hooks: RouteWatchHooks;
  log: Logger;
  /** A namespace file (/run/netns/NAME) instead of this process's namespace (tests). */
  netns?: string;
  /** The Monitor's receive buffer (default its 32 MiB; tests make it tiny to force ENOBUFS). */
  rcvbufBytes?: number;
  /** How long a source the route stopped using is remembered (default SOURCE_MEMORY_MS): a query's deadline or more. */
  sourceMemoryMs?: number;
  /** How long after an address left its link a lost route counts as a renumbering (default RENUMBER_MS). */
  renumberMs?: number;
}

/** Counters of the route watch, for `wan-dns --status`. */
export interface RouteWatchStatus {
  /** Netlink events seen (routes, rules, addresses, links). */
  events: number;
  /** Evaluations of every server's route (one per batch of events). */
  evaluations: number;
  /** Full re-dumps after the kernel dropped events (ENOBUFS). */
  resyncs: number;
  /** lost + back + moved changes reported. */
  changes: number;
  /** Source addresses that vanished while queries may have been waiting on them. */
  sourcesGone: number;
  /** Times the cache said "no route" and the kernel routed the server anyway (the kernel won). */
  disagreements: number;
}

/** Counters before anything happened: also what `--status` shows when the route watch is off. */
export function zeroRouteCounts(): RouteWatchStatus {
  return { events: 0, evaluations: 0, resyncs: 0, changes: 0, sourcesGone: 0, disagreements: 0 };
}

export class RouteWatch {
  private readonly states = new Map<Server, RouteState>();
  /** Per server: source addresses its queries left from, and when each stopped being used (0: in use). */
  private readonly sources = new Map<Server, Map<string, number>>();
  private readonly counts: RouteWatchStatus = zeroRouteCounts();
  /** The node's addresses at the last evaluation (address -> link index), to see which ones left. */
  private addresses = new Map<string, number>();
  /** Per link index: when an address last left it (ms). */
  private readonly addressLeft = new Map<number, number>();
  /** Per server: the device(s) of its last reachable route, and whether its loss is being held as a renumbering. */
  private readonly lastDev = new Map<Server, string>();
  private readonly renumbering = new Set<Server>();
  private renumberTimer: TimerHandle | undefined;
  private scheduled: TimerHandle | undefined;
  private closed = false;

  private constructor(
    private readonly options: RouteWatchOptions,
    private readonly monitor: Monitor,
    private readonly nl: Netlink,
  ) {
    monitor.on((e) => this.onEvent(e));
  }

  /**
   * Opens the monitor (and a socket for the kernel's source address choice) and evaluates every server once.
   * Returns the reason as a string when netlink cannot be used (no addon, an unsupported kernel, a bad netns).
   */
  static start(options: RouteWatchOptions): RouteWatch | string {
    let monitor: Monitor;
    try {
      monitor = Monitor.start({ netns: options.netns, rcvbufBytes: options.rcvbufBytes });
    } catch (err: unknown) {
      return err instanceof Error ? err.message : String(err);
    }
    let nl: Netlink;
    try {
      nl = Netlink.open({ netns: options.netns, timeoutMs: 1000 });
    } catch (err: unknown) {
      monitor.close();
      return err instanceof Error ? err.message : String(err);
    }
    const watch = new RouteWatch(options, monitor, nl);
    watch.evaluate();
    return watch;
  }

  /** The last evaluated route of `server`; undefined before its first evaluation. */
  state(server: Server): RouteState | undefined {
    return this.states.get(server);
  }

  status(): RouteWatchStatus {
    return { ...this.counts };
  }

  /** Evaluates again soon (one evaluation per batch of events): after a reload changed the server list. */
  schedule(): void {
    if (this.scheduled !== undefined || this.closed) return;
    this.scheduled = timers.after(0, () => {
      this.scheduled = undefined;
      this.evaluate();
    });
  }

  private onEvent(e: MonitorEvent): void {
    switch (e.type) {
      case 'synced':
        return;
      case 'error':
        this.options.log.once('route-watch-error', 'warning', `route watch: ${e.error.message}`);
        return;
      case 'resynced':
        this.counts.resyncs++;
        this.options.log.log(
          'notice',
          `route watch: netlink overrun (ENOBUFS), routes dumped again (${e.changes} changes); upstream routes re-evaluated`,
        );
        this.schedule();
        return;
      default:
        this.counts.events++;
        this.schedule();
    }
  }

  /** Looks every server's route up again and reports what changed. Skipped while the cache is stale (ENOBUFS). */
  evaluate(): void {
    if (this.closed || this.monitor.stale) return;
    this.counts.evaluations++;
    const servers = this.options.servers();
    const live = new Set(servers);
    for (const s of [...this.states.keys()]) if (!live.has(s)) this.states.delete(s);
    for (const s of [...this.sources.keys()]) if (!live.has(s)) this.sources.delete(s);
    for (const s of [...this.lastDev.keys()]) if (!live.has(s)) this.lastDev.delete(s);
    for (const s of [...this.renumbering]) if (!live.has(s)) this.renumbering.delete(s);
    const now = Date.now();
    const addresses = new Map(this.monitor.cache.listAddresses().map((a: Address) => [a.address, a.index]));
    for (const [address, index] of this.addresses) if (!addresses.has(address)) this.addressLeft.set(index, now);
    this.addresses = addresses;
    const local = new Set(addresses.keys());
    for (const server of servers) {
      const cached = routeState(this.monitor.cache, server.endpoint, this.options.mark);
      const after = cached.reachable ? this.withSource(server, cached) : this.crossCheck(server, cached);
      const before = this.states.get(server);
      this.states.set(server, after);
      // Attempts record it: when this source leaves the node, only what left from it is sent again.
      server.routeSource = after.source;
      this.checkSources(server, before, after, local, now);
      if (after.reachable && after.dev !== undefined) this.lastDev.set(server, after.dev);
      const renumbering = !after.reachable && this.renumberingOf(server, now);
      const change = routeChange(before, after);
      if (change === undefined) {
        // Still without a route: the renumbering may begin (the address left after the route) or end.
        if (!after.reachable && renumbering !== this.renumbering.has(server)) this.setRenumbering(server, renumbering);
        continue;
      }
      this.counts.changes++;
      if (change === 'lost') {
        if (renumbering) this.renumbering.add(server);
        this.options.log.log(
          'warning',
          `upstream ${server.key}: route lost (${formatRoute(after)}): ${
            renumbering
              ? `an address left ${this.lastDev.get(server)} (carrier up): renumbering, queries wait up to an attempt timeout for the new route`
              : 'failing over, server down until it returns'
          }`,
        );
        this.options.hooks.lost(server, after, renumbering);
      } else if (change === 'back') {
        this.renumbering.delete(server);
        this.options.log.log('notice', `upstream ${server.key}: route back (${formatRoute(after)}): probing it again`);
        this.options.hooks.back(server, after);
      } else if (before !== undefined) {
        this.options.log.log(
          'notice',
          `upstream ${server.key}: route moved (${formatRoute(before)} -> ${formatRoute(after)}): new upstream sockets`,
        );
        this.options.hooks.moved(server, before, after);
      }
    }
    this.armRenumberTimer();
  }

  /**
   * True when the link `server`'s last route used still has carrier and an address left it within RENUMBER_MS:
   * the WAN is being renumbered, not gone.
   */
  private get renumberMs(): number {
    return this.options.renumberMs ?? RENUMBER_MS;
  }

  private renumberingOf(server: Server, now: number): boolean {
    const devs = this.lastDev.get(server);
    if (devs === undefined) return false;
    for (const name of devs.split(',')) {
      const link = this.monitor.cache.link(name);
      const left = link === undefined ? undefined : this.addressLeft.get(link.index);
      if (link?.adminUp && link.carrier && left !== undefined && now - left <= this.renumberMs) return true;
    }
    return false;
  }

  private setRenumbering(server: Server, on: boolean): void {
    if (on) this.renumbering.add(server);
    else this.renumbering.delete(server);
    this.options.log.log(
      'notice',
      on
        ? `upstream ${server.key}: an address left ${this.lastDev.get(server)} (carrier up): renumbering, queries wait for the new route`
        : `upstream ${server.key}: renumbering over without a route (carrier lost or no new address): answering SERVFAIL`,
    );
    this.options.hooks.renumbering(server, on);
  }

  /** While a renumbering is held, evaluate again when RENUMBER_MS runs out (no event may come to end it). */
  private armRenumberTimer(): void {
    if (this.renumbering.size === 0 || this.renumberTimer !== undefined || this.closed) return;
    this.renumberTimer = timers.after(this.renumberMs + 10, () => {
      this.renumberTimer = undefined;
      this.evaluate();
    });
  }

  /**
   * Remembers which sources `server`'s queries used and reports one that left this node while queries sent from
   * it may still wait for answers (either order of a renumbering: the route's source may move before or after
   * the old address is removed).
   */
  private checkSources(server: Server, before: RouteState | undefined, after: RouteState, local: Set<string>, now: number): void {
    let used = this.sources.get(server);
    if (used === undefined) {
      used = new Map();
      this.sources.set(server, used);
    }
    if (before?.source !== undefined && before.source !== after.source) used.set(before.source, now);
    if (after.source !== undefined) used.set(after.source, 0);
    for (const [source, endedMs] of [...used]) {
      if (endedMs !== 0 && now - endedMs > (this.options.sourceMemoryMs ?? SOURCE_MEMORY_MS)) used.delete(source);
      else if (!local.has(source)) {
        used.delete(source);
        // Without a route the lost hook moves the pending queries elsewhere anyway.
        if (!after.reachable) continue;
        this.counts.sourcesGone++;
        this.options.log.log('notice', `upstream ${server.key}: source ${source} gone: sending what left from it again`);
        this.options.hooks.sourceGone(server, source);
      }
    }
  }

  /**
   * The cache says no route: the kernel is asked too before the server is given up, because failing it means
   * SERVFAIL for the VPN group. When the kernel does route it (the cache lags, or does not model a selector such
   * as a rule's ports or uid range), the kernel wins and the disagreement is logged once. A route through a dead
   * link is not asked about: the kernel still returns it (IPv6 keeps linkdown routes) though nothing gets out.
   */
  private crossCheck(server: Server, cached: RouteState): RouteState {
    if (cached.verdict === 'linkdown') return cached;
    const e = server.endpoint;
    let r: Route;
    try {
      r = this.nl.getRoute({ dst: e.address, mark: this.options.mark, ...(e.scope === undefined ? {} : { oif: e.scope }) });
    } catch {
      return cached; // the kernel agrees: no route (ENETUNREACH, EHOSTUNREACH, EACCES, EINVAL)
    }
    const dev = r.oif === undefined ? undefined : this.monitor.cache.link(r.oif)?.name;
    const via = `${r.gateway ? `via ${r.gateway} ` : ''}${dev ? `dev ${dev} ` : ''}in table ${r.table}`;
    this.counts.disagreements++;
    this.options.log.once(
      `route-disagree-${server.key}`,
      'warning',
      `upstream ${server.key}: the route cache says ${formatRoute(cached)}, the kernel routes it ${via}: trusting the kernel`,
    );
    return { reachable: true, verdict: 'route', reason: `${via} (kernel)`, dev, table: r.table, gateway: r.gateway, source: r.prefsrc };
  }

  /**
   * The cache's reachable route with the source address the kernel would choose for a marked packet to `server`
   * (`ip route get ADDR mark M`). When the kernel has no route at all, it wins: removing an IPv4 address flushes
   * the routes through it (table 1's default via the old gateway, udhcpc's `deconfig`) without an RTM_DELROUTE,
   * so the cache keeps a route the kernel no longer has and no later event corrects it.
   */
  private withSource(server: Server, cached: RouteState): RouteState {
    const e = server.endpoint;
    try {
      const r = this.nl.getRoute({ dst: e.address, mark: this.options.mark, ...(e.scope === undefined ? {} : { oif: e.scope }) });
      // A source from another link (the WAN's own address has just left: IPv6 then picks the mesh's ULA while the
      // default is still there) is not a route: the answers could never come back, and the query would carry the
      // mesh's address onto the WAN. It counts as lost (a renumbering while an address just left), like no route.
      const foreign = r.prefsrc !== undefined && r.oif !== undefined && !this.sourceOn(r.prefsrc, r.oif);
      if (foreign) {
        return {
          ...cached,
          reachable: false,
          verdict: 'kernel',
          reason: `no address of its own on ${cached.dev ?? `ifindex ${r.oif}`} (the kernel would send from ${r.prefsrc})`,
          source: undefined,
        };
      }
      return { ...cached, source: r.prefsrc };
    } catch (err: unknown) {
      if (!(err instanceof NetlinkError) || !NO_ROUTE.has(err.code)) return { ...cached, source: undefined };
      this.counts.disagreements++;
      this.options.log.once(
        `route-gone-${server.key}`,
        'notice',
        `upstream ${server.key}: the route cache says ${formatRoute(cached)}, the kernel has no route (${err.code}): trusting the kernel`,
      );
      return { ...cached, reachable: false, verdict: 'kernel', reason: `no route in the kernel (${err.code})`, source: undefined };
    }
  }

  /** Whether `address` is configured on interface `index` (or on loopback, the source of local routes). */
  private sourceOn(address: string, index: number): boolean {
    for (const a of this.monitor.cache.listAddresses()) {
      if (a.address === address) return a.index === index || a.index === this.loopbackIndex();
    }
    // Not in the cache (an address the dump has not shown yet): the kernel picked it, trust it.
    return true;
  }

  private loopbackIndex(): number | undefined {
    return this.monitor.cache.listLinks().find((l) => l.name === 'lo')?.index;
  }

  close(): void {
    this.closed = true;
    if (this.scheduled !== undefined) timers.clear(this.scheduled);
    if (this.renumberTimer !== undefined) timers.clear(this.renumberTimer);
    this.monitor.close();
    this.nl.close();
  }
}
