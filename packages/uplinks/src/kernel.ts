/**
 * Brings the kernel in line with a Desired state through @meshwan/netlink. Ownership is by rtm_protocol: only
 * routes and rules carrying our protocol (78 by default) are ever replaced or deleted, so netifd's, policy's and
 * the floor route are never touched. Routes are compared before writing, so a steady state costs no netlink writes.
 */
import { familyNames, type Link, type Netlink, NetlinkError, type Route, type Rule } from '@meshwan/netlink';
import type { IpFamily } from '@meshwan/os';
import type { Desired, WantedRoute, WantedRule } from './desired.js';

export interface ApplyResult {
  readonly changed: readonly string[];
  /** per-object failures; one bad route does not stop the others */
  readonly errors: readonly NetlinkError[];
}

function isLinkLocal(ip: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(ip);
}

function routeKey(family: IpFamily, table: number, dst: string, dstLength: number, metric: number): string {
  return `${family}|${table}|${dst}/${dstLength}|${metric}`;
}

function wantedKey(r: WantedRoute): string {
  if (r.dst === 'default') return routeKey(r.family, r.table, r.family === 6 ? '::' : '0.0.0.0', 0, r.metric);
  const [addr = '', len = ''] = r.dst.split('/');
  return routeKey(r.family, r.table, addr, Number(len), r.metric);
}

function kernelSignature(r: Route): string {
  const hops = r.nexthops ?? (r.type === 'unicast' ? [{ gateway: r.gateway, oif: r.oif ?? 0, weight: 1 }] : []);
  return `${r.type}|${hops.map((h) => `${h.gateway ?? '-'}@${h.oif}*${h.weight}`).join(',')}`;
}

function wantedSignature(r: WantedRoute, ifindex: Map<string, number>): string {
  return `${r.type}|${r.nexthops.map((h) => `${h.gateway ?? '-'}@${ifindex.get(h.device) ?? 0}*${h.weight}`).join(',')}`;
}

function ruleKey(r: { family: IpFamily; priority: number; fwmark?: number; fwmask?: number; table: number }): string {
  return `${r.family}|${r.priority}|${r.fwmark ?? 0}/${r.fwmask ?? 0}|${r.table}`;
}

export function describeRoute(r: WantedRoute): string {
  const head = `${r.type === 'unreachable' ? 'unreachable ' : ''}${r.dst} table ${r.table} metric ${r.metric}`;
  if (r.nexthops.length === 1 && r.nexthops[0]) {
    const h = r.nexthops[0];
    return `${head}${h.gateway ? ` via ${h.gateway}` : ''} dev ${h.device}`;
  }
  return `${head}${r.nexthops.map((h) => ` nexthop${h.gateway ? ` via ${h.gateway}` : ''} dev ${h.device} weight ${h.weight}`).join('')}`;
}

/** Our routes and rules now in the kernel (by protocol). */
function ownedState(nl: Netlink, protocol: number): { routes: Route[]; rules: Rule[] } {
  return {
    routes: nl.listRoutes().filter((r) => r.protocol === protocol),
    rules: nl.listRules().filter((r) => r.protocol === protocol),
  };
}

function routeRequest(r: WantedRoute, protocol: number) {
  const base = { dst: r.dst, family: r.family, table: r.table, metric: r.metric, protocol };
  if (r.type === 'unreachable') return { ...base, type: 'unreachable' as const };
  // A global gateway may be on-link only through a prefix route in another table (policy moves the WAN's routes
  // into the WAN table), so it is declared on-link (RTNH_F_ONLINK) rather than checked against main.
  const onlink = (gw: string | undefined) => gw !== undefined && !isLinkLocal(gw);
  const [only] = r.nexthops;
  if (r.nexthops.length === 1 && only) {
    return { ...base, dev: only.device, ...(only.gateway ? { gateway: only.gateway, onlink: onlink(only.gateway) } : {}) };
  }
  return {
    ...base,
    nexthops: r.nexthops.map((h) => ({
      dev: h.device,
      weight: h.weight,
      ...(h.gateway ? { gateway: h.gateway, onlink: onlink(h.gateway) } : {}),
    })),
  };
}

/**
 * Applies `desired`. With `skipTable`, routes of that table are neither written nor deleted: at start-up, before
 * every uplink has been probed once, the WAN table keeps what it has instead of losing its default for a moment.
 */
export function applyDesired(
  nl: Netlink,
  desired: Desired,
  protocol: number,
  links: readonly Link[] = nl.listLinks(),
  skipTable?: number,
): ApplyResult {
  const changed: string[] = [];
  const errors: NetlinkError[] = [];
  const ifindex = new Map(links.map((l) => [l.name, l.index]));
  const attempt = (what: string, fn: () => void) => {
    try {
      fn();
      changed.push(what);
    } catch (err: unknown) {
      if (err instanceof NetlinkError) errors.push(err);
      else throw err;
    }
  };
  const owned = ownedState(nl, protocol);
  const current = new Map(owned.routes.map((r) => [routeKey(r.family, r.table, r.dst, r.dstLength, r.metric), r]));
  const wantedKeys = new Set<string>();
  for (const w of desired.routes) {
    if (w.table === skipTable) continue;
    const key = wantedKey(w);
    wantedKeys.add(key);
    const have = current.get(key);
    if (have && kernelSignature(have) === wantedSignature(w, ifindex)) continue;
    attempt(`replace ${describeRoute(w)}`, () => nl.replaceRoute(routeRequest(w, protocol)));
  }
  for (const [key, r] of current) {
    if (wantedKeys.has(key) || r.table === skipTable) continue;
    const dst = r.dstLength === 0 ? 'default' : `${r.dst}/${r.dstLength}`;
    attempt(`delete ${dst} table ${r.table} metric ${r.metric}`, () =>
      nl.deleteRoute({ dst, family: r.family, table: r.table, metric: r.metric, protocol, type: r.type }),
    );
  }
  const haveRules = new Map(owned.rules.map((r) => [ruleKey(r), r]));
  const wantRules = new Map(desired.rules.map((r) => [ruleKey(r), r]));
  for (const [key, w] of wantRules) {
    if (haveRules.has(key)) continue;
    attempt(`add rule ${describeRule(w)}`, () => nl.addRule({ ...w, action: 'lookup', protocol }));
  }
  for (const [key, r] of haveRules) {
    if (wantRules.has(key)) continue;
    attempt(`delete rule ${key}`, () =>
      nl.deleteRule({
        family: r.family,
        priority: r.priority,
        table: r.table,
        protocol,
        ...(r.fwmark !== undefined ? { fwmark: r.fwmark, fwmask: r.fwmask } : {}),
      }),
    );
  }
  return { changed, errors };
}

function describeRule(r: WantedRule): string {
  return `pref ${r.priority} fwmark 0x${r.fwmark.toString(16)}/0x${r.fwmask.toString(16)} lookup ${r.table} (${familyNames[r.family]})`;
}
