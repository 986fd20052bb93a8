/**
 * Monitor: one socket subscribed to the link, address, route and rule groups of both families, with a large
 * receive buffer, keeping a RouteCache exact. A second socket does the dumps.
 * - The first full dump is followed by `synced`.
 * - ENOBUFS (the kernel dropped events because our buffer was full): the cache is `stale`; queued events are
 *   discarded (the dump to come is newer) until the stream is quiet for `quietMs` or `maxStaleMs` passed, then
 *   everything is dumped again, the differences are emitted as events, then `resynced`. Waiting for quiet keeps
 *   a burst (50k route changes) from causing a re-dump per overrun.
 * - A link going down or losing carrier: the kernel drops IPv4 routes through it (fib_sync_down_dev, fib_flush)
 *   without RTM_DELROUTE and flags others linkdown silently, so routes are dumped again and the removals are
 *   emitted as `del` events (`synthesized: true`).
 */

import { type TimerHandle, timers } from '@meshwan/os';
import { type ObjectEvent, RouteCache } from './cache.js';
import { decodeAddress } from './codec/address.js';
import {
  NLM_F_REPLACE,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_DELRULE,
  RTM_F_CLONED,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTM_NEWRULE,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV4_ROUTE,
  RTNLGRP_IPV4_RULE,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_IPV6_ROUTE,
  RTNLGRP_IPV6_RULE,
  RTNLGRP_LINK,
} from './codec/constants.js';
import { decodeLink, type Link } from './codec/link.js';
import { decodeHeader } from './codec/message.js';
import { decodeRoute } from './codec/route.js';
import { decodeRule } from './codec/rule.js';
import { DecodeError, errnoName, NetlinkError } from './errors.js';
import { listRoutes } from './routes.js';
import { dumpAll } from './snapshot.js';
import { NetlinkSocket } from './socket.js';

export const MONITOR_GROUPS = [
  RTNLGRP_LINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_IPV4_ROUTE,
  RTNLGRP_IPV6_ROUTE,
  RTNLGRP_IPV4_RULE,
  RTNLGRP_IPV6_RULE,
].reduce((mask, g) => mask | (1 << (g - 1)), 0);

export interface MonitorOptions {
  /** network namespace file (/run/netns/NAME) */
  netns?: string;
  /** receive buffer of the event socket; default 32 MiB (SO_RCVBUFFORCE) */
  rcvbufBytes?: number;
  /** datagrams handled per event-loop turn before yielding */
  batch?: number;
  /** after ENOBUFS, re-dump once no event came for this long (default 100 ms) */
  quietMs?: number;
  /** ... or at the latest this long after the overrun (default 2000 ms) */
  maxStaleMs?: number;
}

export type MonitorEvent =
  | (ObjectEvent & { synthesized?: boolean })
  | { type: 'carrier'; link: Link; carrier: boolean }
  | { type: 'admin'; link: Link; up: boolean }
  | { type: 'synced' }
  | { type: 'resynced'; reason: 'ENOBUFS'; changes: number }
  | { type: 'error'; error: Error };

type Listener = (e: MonitorEvent) => void;

export class Monitor {
  readonly cache = new RouteCache();
  /** true once the first full dump is in the cache */
  synced = false;
  /** how many times ENOBUFS forced a full re-dump */
  resyncs = 0;
  /** resolves after `synced` is emitted */
  readonly ready: Promise<void>;
  private readonly listeners = new Set<Listener>();
  private closed = false;
  /** true between an ENOBUFS and the re-dump that makes the cache exact again */
  stale = false;
  private readonly batch: number;
  private readonly quietMs: number;
  private readonly maxStaleMs: number;
  private staleSince = 0;
  private lastActivity = 0;
  private resyncTimer: TimerHandle | undefined;

  private constructor(
    private readonly events: NetlinkSocket,
    private readonly requests: NetlinkSocket,
    options: MonitorOptions,
  ) {
    this.batch = options.batch ?? 512;
    this.quietMs = options.quietMs ?? 100;
    this.maxStaleMs = options.maxStaleMs ?? 2000;
    this.ready = new Promise((resolve) => {
      // After the code that called start(): a microtask, on every engine.
      void Promise.resolve().then(() => {
        if (this.closed) return resolve();
        this.synced = true;
        this.emit({ type: 'synced' });
        resolve();
      });
    });
  }

  /**
   * Subscribes, dumps everything into `cache`, and starts reading events from the event loop. `synced` is
   * emitted on the next tick, so listeners added right after start() see it. Throws NetlinkError/AddonError.
   */
  static start(options: MonitorOptions = {}): Monitor {
    const events = NetlinkSocket.open({ netns: options.netns, groups: MONITOR_GROUPS, rcvbufBytes: options.rcvbufBytes ?? 32 << 20 });
    let requests: NetlinkSocket;
    try {
      requests = NetlinkSocket.open({ netns: options.netns });
    } catch (err: unknown) {
      events.close();
      throw err;
    }
    const m = new Monitor(events, requests, options);
    try {
      // subscribed before the dump: anything that changes meanwhile is queued and applied after it
      m.cache.load(dumpAll(requests));
    } catch (err: unknown) {
      m.close();
      throw err;
    }
    events.watch(() => m.drain());
    return m;
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: MonitorEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err: unknown) {
        // a listener's bug must not stop the monitor (this runs inside the native poll callback)
        timers.after(0, () => {
          throw err;
        });
      }
    }
  }

  /** The kernel's own count of our receive buffer (twice what was asked). */
  receiveBufferBytes(): number {
    return this.events.receiveBufferBytes();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.resyncTimer) timers.clear(this.resyncTimer);
    this.events.close();
    this.requests.close();
  }

  /** Reads what is queued (up to `batch` datagrams); the poll watcher calls again while more waits. */
  private drain(): void {
    for (let i = 0; i < this.batch && !this.closed; i++) {
      const { length, buf } = this.events.receive(0);
      if (length === -11) return; // EAGAIN: empty
      if (length < 0) {
        if (errnoName(-length) === 'ENOBUFS') this.overrun();
        else this.emit({ type: 'error', error: new NetlinkError(-length, 'monitor', 'recv') });
        continue;
      }
      if (this.stale) {
        this.lastActivity = Date.now();
        continue; // older than the re-dump to come
      }
      try {
        this.handle(buf, length);
      } catch (err: unknown) {
        if (!(err instanceof DecodeError)) throw err;
        // a malformed datagram is dropped; the cache may now be stale, so make it exact again
        this.emit({ type: 'error', error: err });
        this.overrun();
      }
    }
  }

  private handle(buf: Uint8Array, length: number): void {
    let at = 0;
    while (at < length) {
      const h = decodeHeader(buf, at, length);
      const end = at + h.length;
      switch (h.type) {
        case RTM_NEWLINK:
        case RTM_DELLINK:
          this.onLink(h.type === RTM_NEWLINK ? 'new' : 'del', decodeLink(buf, at, end));
          break;
        case RTM_NEWADDR:
        case RTM_DELADDR:
          this.change({ type: h.type === RTM_NEWADDR ? 'new' : 'del', kind: 'address', address: decodeAddress(buf, at, end) });
          break;
        case RTM_NEWROUTE:
        case RTM_DELROUTE: {
          const route = decodeRoute(buf, at, end);
          if (!(route.flags & RTM_F_CLONED))
            this.change({ type: h.type === RTM_NEWROUTE ? 'new' : 'del', kind: 'route', route }, (h.flags & NLM_F_REPLACE) !== 0);
          break;
        }
        case RTM_NEWRULE:
        case RTM_DELRULE: {
          const af = buf[at + 16];
          if (af === 2 || af === 10)
            this.change({ type: h.type === RTM_NEWRULE ? 'new' : 'del', kind: 'rule', rule: decodeRule(buf, at, end) });
          break;
        }
        case NLMSG_NOOP:
        case NLMSG_DONE:
        case NLMSG_ERROR:
          break;
      }
      at += (h.length + 3) & ~3;
    }
  }

  /** Applies a change; a `del` of something already gone (e.g. removed by a re-dump) is not emitted twice. */
  private change(e: ObjectEvent, replace = false): void {
    const prev = this.cache.apply(e, replace);
    if (e.type === 'del' && !prev) return;
    this.emit(e);
  }

  private onLink(type: 'new' | 'del', link: Link): void {
    const prev = this.cache.link(link.index);
    this.change({ type, kind: 'link', link });
    if (type === 'new' && prev) {
      if (prev.adminUp !== link.adminUp) this.emit({ type: 'admin', link, up: link.adminUp });
      if (prev.carrier !== link.carrier) this.emit({ type: 'carrier', link, carrier: link.carrier });
    }
    const wentDown = type === 'del' || (prev !== undefined && (prev.adminUp !== link.adminUp || prev.carrier !== link.carrier));
    if (wentDown) this.redumpRoutes();
  }

  /** Routes are dumped again and the differences emitted (IPv4 removals on link down are never announced). */
  private redumpRoutes(): void {
    const routes = listRoutes(this.requests);
    for (const e of this.cache.load({ routes })) this.emit({ ...e, synthesized: true });
  }

  private overrun(): void {
    const now = Date.now();
    this.lastActivity = now;
    if (this.stale) return;
    this.stale = true;
    this.staleSince = now;
    this.scheduleResync();
  }

  private scheduleResync(): void {
    this.resyncTimer = timers.after(this.quietMs, () => {
      this.resyncTimer = undefined;
      if (this.closed) return;
      const now = Date.now();
      if (now - this.lastActivity < this.quietMs && now - this.staleSince < this.maxStaleMs) this.scheduleResync();
      else this.resync();
    });
  }

  /** Discards the queue (older than the dump), dumps everything, emits the difference and `resynced`. */
  private resync(): void {
    this.resyncs++;
    for (;;) {
      const { length } = this.events.receive(0);
      if (length === -11) break;
    }
    let changes: ObjectEvent[];
    try {
      changes = this.cache.load(dumpAll(this.requests));
    } catch (err: unknown) {
      if (!(err instanceof NetlinkError || err instanceof DecodeError)) throw err;
      this.emit({ type: 'error', error: err });
      this.scheduleResync();
      return;
    }
    this.stale = false;
    for (const e of changes) this.emit(e);
    this.emit({ type: 'resynced', reason: 'ENOBUFS', changes: changes.length });
  }
}
