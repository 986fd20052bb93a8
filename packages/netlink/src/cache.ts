/**
 * RouteCache: links, addresses, routes (per family and table) and rules (per family, in the kernel's order) as
 * the kernel holds them, kept in step by the Monitor, and answering lookups as the kernel would (lookup.ts).
 */

import type { IpFamily } from '@meshwan/os';
import type { Address } from './codec/address.js';
import { IFA_F_DADFAILED, IFA_F_TENTATIVE, RT_TABLE_LOCAL } from './codec/constants.js';
import type { Link } from './codec/link.js';
import type { Route } from './codec/route.js';
import type { Rule } from './codec/rule.js';
import {
  type CompiledRule,
  compileRules,
  type LookupOptions,
  type LookupResult,
  type LookupState,
  lookupRoute,
  type OutputLookup,
} from './lookup.js';
import { addressWords } from './prefix.js';
import { type Entry, TableIndex } from './table.js';

export type ChangeType = 'new' | 'del';
export type ObjectEvent =
  | { type: ChangeType; kind: 'link'; link: Link }
  | { type: ChangeType; kind: 'address'; address: Address }
  | { type: ChangeType; kind: 'route'; route: Route }
  | { type: ChangeType; kind: 'rule'; rule: Rule };

export interface Snapshot {
  links: Link[];
  addresses: Address[];
  routes: Route[];
  rules: Rule[];
}

/** Where `ip route replace` replaces: IPv4 (table, dst, tos, metric), IPv6 (table, dst, src, metric). */
function routeBaseKey(r: Route): string {
  return `${r.family}|${r.table}|${r.dst}/${r.dstLength}|${r.src ?? ''}/${r.srcLength}|${r.tos}|${r.metric}`;
}

/**
 * One route's identity: the base key plus its nexthop, because several routes may share a base key (IPv6 fe80::/64
 * on every link, `ip route append`). A multipath route is one object at its base key (ECMP siblings are merged).
 */
export function routeKey(r: Route): string {
  return r.nexthops ? `${routeBaseKey(r)}|*` : `${routeBaseKey(r)}|${r.oif ?? ''}|${r.gateway ?? ''}|${r.type}`;
}

export function ruleKey(r: Rule): string {
  return [
    r.family,
    r.priority,
    r.action,
    r.table,
    r.goto ?? '',
    `${r.src ?? ''}/${r.srcLength}`,
    `${r.dst ?? ''}/${r.dstLength}`,
    r.fwmark ?? '',
    r.fwmask ?? '',
    r.iif ?? '',
    r.oif ?? '',
    r.suppressPrefixLength ?? '',
    r.invert,
    r.tos,
  ].join('|');
}

export function addressKey(a: Address): string {
  return `${a.family}|${a.index}|${a.address}/${a.prefixLength}`;
}

/** Two dumps of one route (same key) are the same route unless one of these differs; counters and expiry may. */
function sameRoute(a: Route, b: Route): boolean {
  return (
    a.type === b.type &&
    a.gateway === b.gateway &&
    a.oif === b.oif &&
    a.iif === b.iif &&
    a.prefsrc === b.prefsrc &&
    a.protocol === b.protocol &&
    a.scope === b.scope &&
    a.flags === b.flags &&
    a.pref === b.pref &&
    a.mark === b.mark &&
    (a.nexthops === undefined) === (b.nexthops === undefined) &&
    (a.nexthops === undefined || JSON.stringify(a.nexthops) === JSON.stringify(b.nexthops))
  );
}

/** What must be equal for two dumps of an object to be "the same": counters, lifetimes and raw extras are not. */
function signature(e: ObjectEvent): string {
  switch (e.kind) {
    case 'link':
      return JSON.stringify({ ...e.link, unknown: undefined });
    case 'address':
      return JSON.stringify({ ...e.address, unknown: undefined, preferredLifetimeSeconds: undefined, validLifetimeSeconds: undefined });
    case 'route':
      return JSON.stringify({ ...e.route, unknown: undefined, expiresSeconds: undefined });
    case 'rule':
      return JSON.stringify({ ...e.rule, unknown: undefined });
  }
}

export class RouteCache {
  private readonly linkMap = new Map<number, Link>();
  private readonly linkNames = new Map<string, Link>();
  private readonly addressMap = new Map<string, Address>();
  /** IPv4 addresses configured on links, as words, with how many links have each (the source check of lookup) */
  private readonly local4 = new Map<number, number>();
  private readonly routeEntries = new Map<string, { entry: Entry; table: TableIndex }>();
  /** base key -> route keys, for replace */
  private readonly routeBases = new Map<string, Set<string>>();
  private readonly tableMap: Record<IpFamily, Map<number, TableIndex>> = { 4: new Map(), 6: new Map() };
  private readonly ruleLists: Record<IpFamily, Rule[]> = { 4: [], 6: [] };
  /** compiled rule lists for lookup, rebuilt after a rule change */
  private compiled: Partial<Record<IpFamily, CompiledRule[]>> = {};

  private removeRoute(key: string): Route | undefined {
    const prev = this.routeEntries.get(key);
    if (!prev) return undefined;
    prev.table.remove(prev.entry);
    this.routeEntries.delete(key);
    const base = routeBaseKey(prev.entry.route);
    const keys = this.routeBases.get(base);
    keys?.delete(key);
    if (keys?.size === 0) this.routeBases.delete(base);
    return prev.entry.route;
  }

  /**
   * Applies one change; returns the object it replaced or removed (undefined when there was none). `replace`
   * (NLM_F_REPLACE on RTM_NEWROUTE) first removes every route with the same base key, as the kernel did.
   */
  apply(e: ObjectEvent, replace = false): ObjectEvent | undefined {
    switch (e.kind) {
      case 'link': {
        const prev = this.linkMap.get(e.link.index);
        if (prev) this.linkNames.delete(prev.name);
        if (e.type === 'new') {
          this.linkMap.set(e.link.index, e.link);
          this.linkNames.set(e.link.name, e.link);
        } else this.linkMap.delete(e.link.index);
        return prev && { type: 'new', kind: 'link', link: prev };
      }
      case 'address': {
        const key = addressKey(e.address);
        const prev = this.addressMap.get(key);
        if (e.type === 'new') this.addressMap.set(key, e.address);
        else this.addressMap.delete(key);
        if (e.address.family === 4 && (e.type === 'new') !== (prev !== undefined))
          this.countLocal4(e.address.address, e.type === 'new' ? 1 : -1);
        return prev && { type: 'new', kind: 'address', address: prev };
      }
      case 'route': {
        const key = routeKey(e.route);
        let prev = this.removeRoute(key);
        if (e.type === 'new' && (replace || e.route.nexthops))
          for (const other of [...(this.routeBases.get(routeBaseKey(e.route)) ?? [])]) prev = this.removeRoute(other) ?? prev;
        if (e.type === 'new') {
          const tables = this.tableMap[e.route.family];
          let table = tables.get(e.route.table);
          if (!table) {
            table = new TableIndex();
            tables.set(e.route.table, table);
            // compiled rules hold their tables: recompile so a rule naming this one finds it
            this.compiled[e.route.family] = undefined;
          }
          this.routeEntries.set(key, { entry: table.add(e.route), table });
          const base = routeBaseKey(e.route);
          let keys = this.routeBases.get(base);
          if (!keys) {
            keys = new Set();
            this.routeBases.set(base, keys);
          }
          keys.add(key);
        }
        return prev && { type: 'new', kind: 'route', route: prev };
      }
      case 'rule': {
        this.compiled = {};
        const list = this.ruleLists[e.rule.family];
        const key = ruleKey(e.rule);
        const i = list.findIndex((r) => ruleKey(r) === key);
        const prev = i >= 0 ? list[i] : undefined;
        if (i >= 0) list.splice(i, 1);
        if (e.type === 'new') {
          // the kernel inserts after the last rule whose priority is not higher (fib_nl_newrule)
          let at = list.length;
          while (at > 0 && (list[at - 1]?.priority ?? 0) > e.rule.priority) at--;
          list.splice(at, 0, e.rule);
        }
        return prev && { type: 'new', kind: 'rule', rule: prev };
      }
    }
  }

  private countLocal4(address: string, delta: number): void {
    const word = addressWords(address)?.[0];
    if (word === undefined) return;
    const n = (this.local4.get(word) ?? 0) + delta;
    if (n > 0) this.local4.set(word, n);
    else this.local4.delete(word);
  }

  /** Everything as events (for a diff against a fresh dump). */
  events(): ObjectEvent[] {
    const out: ObjectEvent[] = [];
    for (const link of this.linkMap.values()) out.push({ type: 'new', kind: 'link', link });
    for (const address of this.addressMap.values()) out.push({ type: 'new', kind: 'address', address });
    for (const { entry } of this.routeEntries.values()) out.push({ type: 'new', kind: 'route', route: entry.route });
    for (const rule of [...this.ruleLists[4], ...this.ruleLists[6]]) out.push({ type: 'new', kind: 'rule', rule });
    return out;
  }

  /**
   * Makes the cache equal to `snapshot` for the kinds it contains and returns the changes as events: dels for
   * what vanished, news for what appeared or changed. Rules are replaced as a list so their order is the dump's.
   */
  load(snapshot: Partial<Snapshot>): ObjectEvent[] {
    const changes: ObjectEvent[] = [];
    if (snapshot.links) {
      const fresh = new Map(snapshot.links.map((l) => [l.index, l]));
      for (const old of this.linkMap.values()) if (!fresh.has(old.index)) changes.push({ type: 'del', kind: 'link', link: old });
      for (const link of fresh.values()) {
        const old = this.linkMap.get(link.index);
        if (!old || signature({ type: 'new', kind: 'link', link }) !== signature({ type: 'new', kind: 'link', link: old }))
          changes.push({ type: 'new', kind: 'link', link });
      }
    }
    if (snapshot.addresses) {
      const fresh = new Map(snapshot.addresses.map((a) => [addressKey(a), a]));
      for (const [key, old] of this.addressMap) if (!fresh.has(key)) changes.push({ type: 'del', kind: 'address', address: old });
      for (const [key, address] of fresh) {
        const old = this.addressMap.get(key);
        if (!old || signature({ type: 'new', kind: 'address', address }) !== signature({ type: 'new', kind: 'address', address: old }))
          changes.push({ type: 'new', kind: 'address', address });
      }
    }
    if (snapshot.routes) {
      const fresh = new Map<string, Route>();
      for (const r of snapshot.routes) fresh.set(routeKey(r), r);
      for (const [key, { entry }] of this.routeEntries)
        if (!fresh.has(key)) changes.push({ type: 'del', kind: 'route', route: entry.route });
      for (const [key, route] of fresh) {
        const old = this.routeEntries.get(key)?.entry.route;
        if (!old || !sameRoute(old, route)) changes.push({ type: 'new', kind: 'route', route });
      }
    }
    if (snapshot.rules) {
      const fresh = new Map(snapshot.rules.map((r) => [ruleKey(r), r]));
      const current = [...this.ruleLists[4], ...this.ruleLists[6]];
      const known = new Set(current.map(ruleKey));
      for (const old of current) if (!fresh.has(ruleKey(old))) changes.push({ type: 'del', kind: 'rule', rule: old });
      for (const [key, rule] of fresh) if (!known.has(key)) changes.push({ type: 'new', kind: 'rule', rule });
      for (const family of [4, 6] as const) this.ruleLists[family] = snapshot.rules.filter((r) => r.family === family);
      this.compiled = {};
    }
    for (const e of changes) if (e.kind !== 'rule') this.apply(e);
    return changes;
  }

  listLinks(): Link[] {
    return [...this.linkMap.values()].sort((a, b) => a.index - b.index);
  }
  link(dev: number | string): Link | undefined {
    return typeof dev === 'number' ? this.linkMap.get(dev) : this.linkNames.get(dev);
  }
  listAddresses(family?: IpFamily): Address[] {
    return [...this.addressMap.values()].filter((a) => !family || a.family === family);
  }
  listRoutes(filter: { family?: IpFamily; table?: number } = {}): Route[] {
    const out: Route[] = [];
    for (const family of filter.family ? [filter.family] : ([4, 6] as const))
      for (const [id, table] of [...this.tableMap[family].entries()].sort((a, b) => a[0] - b[0])) {
        if (filter.table !== undefined && id !== filter.table) continue;
        for (const e of table.entries()) out.push(e.route);
      }
    return out;
  }
  listRules(family?: IpFamily): Rule[] {
    return family ? [...this.ruleLists[family]] : [...this.ruleLists[4], ...this.ruleLists[6]];
  }
  get routeCount(): number {
    return this.routeEntries.size;
  }

  /** What lookup.ts reads, made once (a lookup allocates as little as possible). */
  private readonly state: LookupState = {
    rules: (f) => {
      let c = this.compiled[f];
      if (!c) {
        c = compileRules(this.ruleLists[f], this.tableMap[f]);
        this.compiled[f] = c;
      }
      return c;
    },
    linkExists: (name) => this.linkNames.size === 0 || this.linkNames.has(name),
    linkName: (index) => this.linkMap.get(index)?.name,
    hasLocalAddress4: (word) => this.local4.has(word),
    localTable4: () => this.tableMap[4].get(RT_TABLE_LOCAL),
  };

  /** Which rule, table and route the kernel would use for `dst` (see lookup.ts). */
  lookup(dst: string, options: LookupOptions = {}): LookupResult {
    return lookupRoute(dst, options, this.state);
  }

  /**
   * A locally generated packet as ip6_dst_lookup_tail() (net/ipv6/ip6_output.c) routes it: a socket without a
   * source is looked up without one; when that lookup fails (no route, or a reject), the kernel picks a source
   * anyway (ip6_route_get_saddr with no route: ipv6_dev_get_saddr over every device) and looks up again with it.
   * That second lookup is how a packet main cannot route reaches a `from ADDR lookup T` rule (gluon #520).
   * Returns the first lookup, then, when it failed, one second lookup per source the kernel might pick: `sources`,
   * or every usable global IPv6 address in the cache (which one wins is RFC 6724's source selection, not modelled,
   * so a caller proving that no path leaks checks them all). IPv4, or a given `src`, is one lookup.
   */
  lookupOutput(dst: string, options: LookupOptions = {}, sources?: readonly string[]): OutputLookup[] {
    const first = lookupRoute(dst, options, this.state);
    const given = options.src !== undefined && options.src !== '::';
    if (first.family !== 6 || given || first.verdict === 'route') return [{ result: first }];
    const candidates = sources ?? this.sourceCandidates6();
    return [{ result: first }, ...candidates.map((src) => ({ src, result: lookupRoute(dst, { ...options, src }, this.state) }))];
  }

  /** IPv6 addresses ipv6_dev_get_saddr() may pick for a global destination: global scope, past DAD. */
  private sourceCandidates6(): string[] {
    const out = new Set<string>();
    for (const a of this.addressMap.values())
      if (a.family === 6 && a.scope === 'global' && (a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) === 0) out.add(a.address);
    return [...out];
  }
}
