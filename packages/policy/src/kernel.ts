/**
 * The I/O shell over @meshwan/netlink (the only package that speaks rtnetlink): dumps links, addresses, rules and
 * routes into policy's model, and turns plan steps into netlink requests. Needs CAP_NET_ADMIN for changes.
 */
import {
  type Netlink,
  NetlinkError,
  type Route as NlRoute,
  RouteCache,
  type RouteRequest,
  type Rule,
  type RuleSpec,
} from '@meshwan/netlink';
import type { IpFamily } from '@meshwan/os';
import { ApplyError } from './errors.js';
import { formatPrefix, network, type Prefix, parseAddress } from './ip.js';
import { formatRoute, formatRule, type Route, type RouteType, routeKey } from './model.js';
import type { Step } from './plan.js';
import type { Address, KernelState, Link } from './state.js';

/** RTNH_F_ONLINK (linux/rtnetlink.h), in rtm_flags of a single-path route. */
const RTNH_F_ONLINK = 4;

function prefixOf(text: string | undefined, len: number, family: IpFamily): Prefix | undefined {
  if (text === undefined) return undefined;
  const a = parseAddress(text);
  return a ? { family, addr: a.addr, len } : undefined;
}

/** A dumped route in policy's terms (netlink's addresses are canonical text already, as desired routes are). */
export function fromNetlinkRoute(r: NlRoute, names: ReadonlyMap<number, string>): Route | undefined {
  const family = r.family;
  const dst = prefixOf(r.dst, r.dstLength, family);
  if (!dst) return undefined;
  const src = r.srcLength > 0 ? prefixOf(r.src, r.srcLength, family) : undefined;
  return {
    family,
    table: r.table,
    dst: network(dst),
    type: r.type as RouteType,
    metric: r.metric,
    protocol: r.protocol,
    scope: r.scope,
    ...(src !== undefined ? { src } : {}),
    ...(r.oif !== undefined ? { dev: names.get(r.oif) ?? `if${r.oif}` } : {}),
    ...(r.gateway !== undefined ? { gateway: r.gateway } : {}),
    ...(r.prefsrc !== undefined ? { prefsrc: r.prefsrc } : {}),
    ...(r.expiresSeconds !== undefined ? { expiresSeconds: r.expiresSeconds } : {}),
    ...((r.flags & RTNH_F_ONLINK) !== 0 ? { onlink: true } : {}),
    ...(r.pref !== undefined ? { pref: r.pref } : {}),
    // Multipath (uplinks' weighted default): shown and checked, never touched (desired.ts moves single-path routes only).
    ...(r.nexthops !== undefined
      ? {
          nexthops: r.nexthops.map((h) => {
            const dev = names.get(h.oif);
            return { ...(dev !== undefined ? { dev } : {}), ...(h.gateway !== undefined ? { gateway: h.gateway } : {}), weight: h.weight };
          }),
        }
      : {}),
  };
}

/**
 * Where the kernel's objects are read from: a Netlink socket (a fresh dump) or the netlink Monitor's RouteCache
 * (kept in step by the kernel's notifications; the daemon reads it instead of dumping on every event).
 */
export type KernelSource = Pick<Netlink, 'listLinks' | 'listAddresses' | 'listRules' | 'listRoutes'>;

/** Reads everything policy reasons about. */
export function readKernel(source: KernelSource): KernelState {
  const nlLinks = source.listLinks();
  const nlAddresses = source.listAddresses();
  const rules = source.listRules();
  const nlRoutes = source.listRoutes();
  const names = new Map(nlLinks.map((l) => [l.index, l.name]));
  const links: Link[] = nlLinks.map((l) => ({ name: l.name, ifindex: l.index, up: l.adminUp }));
  const addresses: Address[] = [];
  for (const a of nlAddresses) {
    const dev = names.get(a.index);
    if (dev !== undefined) addresses.push({ dev, family: a.family, address: a.address, len: a.prefixLength });
  }
  const routes: Route[] = [];
  for (const r of nlRoutes) {
    const route = fromNetlinkRoute(r, names);
    if (route) routes.push(route);
  }
  // Built only when asked (check's lookups), from the same objects: the daemon's passes never need it.
  let cache = source instanceof RouteCache ? source : undefined;
  return {
    links,
    addresses,
    rules,
    routes,
    get cache(): RouteCache {
      if (cache === undefined) {
        cache = new RouteCache();
        cache.load({ links: nlLinks, addresses: nlAddresses, rules, routes: nlRoutes });
      }
      return cache;
    },
  };
}

/** The request that adds or deletes exactly this rule (as netifd sends it: no FRA_PROTOCOL when it is 0). */
function toRuleSpec(rule: Rule): RuleSpec {
  const spec: RuleSpec = {
    family: rule.family,
    priority: rule.priority,
    action: rule.action,
    invert: rule.invert,
    protocol: rule.protocol,
  };
  if (rule.action === 'lookup') spec.table = rule.table;
  if (rule.goto !== undefined) spec.goto = rule.goto;
  if (rule.src !== undefined && rule.srcLength > 0) spec.from = `${rule.src}/${rule.srcLength}`;
  if (rule.dst !== undefined && rule.dstLength > 0) spec.to = `${rule.dst}/${rule.dstLength}`;
  if (rule.iif !== undefined) spec.iif = rule.iif;
  if (rule.oif !== undefined) spec.oif = rule.oif;
  if (rule.tos !== 0) spec.tos = rule.tos;
  if (rule.fwmark !== undefined) spec.fwmark = rule.fwmark;
  if (rule.fwmask !== undefined) spec.fwmask = rule.fwmask;
  if (rule.suppressPrefixLength !== undefined) spec.suppressPrefixLength = rule.suppressPrefixLength;
  return spec;
}

export function toRouteRequest(route: Route): RouteRequest {
  const req: RouteRequest = {
    dst: formatPrefix(route.dst),
    family: route.family,
    table: route.table,
    type: route.type,
    metric: route.metric,
    protocol: route.protocol,
  };
  if (route.dev !== undefined) req.dev = route.dev;
  if (route.gateway !== undefined) req.gateway = route.gateway;
  if (route.src) req.from = formatPrefix(route.src);
  if (route.prefsrc !== undefined) req.prefsrc = route.prefsrc;
  if (route.onlink) req.onlink = true;
  if (route.pref !== undefined) req.pref = route.pref;
  if (route.scope !== undefined) req.scope = route.scope;
  // An RA route moved out of main keeps its remaining lifetime (RTA_EXPIRES), or it would outlive the router.
  if (route.expiresSeconds !== undefined && route.family === 6) req.expiresSeconds = route.expiresSeconds;
  return req;
}

/** Describes a step as a log line: `add rule 9000: not from all fwmark 0x1/0x1 lookup main proto meshwan`. */
export function describeStep(step: Step): string {
  switch (step.op) {
    case 'addRule':
      return `add rule ${formatRule(step.rule)}`;
    case 'deleteRule':
      return `delete rule ${formatRule(step.rule)}`;
    case 'addRoute':
      return `add route ${formatRoute(step.route)}`;
    case 'refreshRoute':
      return `refresh route ${formatRoute(step.route)} expires ${step.route.expiresSeconds ?? 'never'}s`;
    case 'deleteRoute':
      return `delete route ${formatRoute(step.route)}`;
  }
}

/**
 * Whether the kernel holds this very route. EEXIST on a route add does not say so: IPv6 refuses any second route
 * with the same destination and metric (fib6_add_rt2node under NLM_F_EXCL), so a stale default via another
 * gateway answers EEXIST too, and taking that for success would delete the moved route's only copy.
 */
function routePresent(nl: Netlink, route: Route): boolean {
  const names = new Map(nl.listLinks().map((l) => [l.index, l.name]));
  const key = routeKey(route);
  return nl.listRoutes({ family: route.family, table: route.table }).some((r) => {
    const dumped = fromNetlinkRoute(r, names);
    return dumped !== undefined && routeKey(dumped) === key;
  });
}

/**
 * Runs one step. Losing a race is success: EEXIST on an add (netifd, or the kernel, was quicker; for a route only
 * when that very route is now there) and ENOENT/ESRCH on a delete (the object is already gone) leave the kernel as
 * wanted.
 */
export function runStep(nl: Netlink, step: Step): void {
  try {
    switch (step.op) {
      case 'addRule':
        nl.addRule(toRuleSpec(step.rule));
        return;
      case 'deleteRule':
        nl.deleteRule(toRuleSpec(step.rule));
        return;
      case 'addRoute':
        nl.addRoute(toRouteRequest(step.route));
        return;
      case 'refreshRoute':
        // `ip route prepend`: the kernel sets the expiry of the route with this nexthop and answers EEXIST
        nl.prependRoute(toRouteRequest(step.route));
        return;
      case 'deleteRoute':
        nl.deleteRoute(toRouteRequest(step.route));
        return;
    }
  } catch (err: unknown) {
    if (err instanceof NetlinkError) {
      if (step.op === 'addRoute' && err.code === 'EEXIST' && routePresent(nl, step.route)) return;
      // addRule: the same rule is there. refreshRoute: the kernel answers EEXIST after updating the expiry in place.
      if ((step.op === 'addRule' || step.op === 'refreshRoute') && err.code === 'EEXIST') return;
      if (step.op.startsWith('delete') && (err.code === 'ENOENT' || err.code === 'ESRCH')) return;
    }
    if (err instanceof ApplyError) throw err;
    throw new ApplyError(step.op, describeStep(step).replace(/^\w+ \w+ /, ''), err);
  }
}
