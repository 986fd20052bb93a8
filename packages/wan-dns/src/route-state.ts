/**
 * The route a marked upstream query would take, from @meshwan/netlink's RouteCache: the kernel's own rule walk
 * (fib_rules_lookup: priority order, fwmark/mask, goto, suppress_prefixlength), table ids as RTA_TABLE gives them
 * (above 255 too) and the longest prefix within a table. Pure: no socket, no clock; route-watch.ts is the shell.
 * Unlike libwebsockets' lws_route (lib/core-net/route.c), which takes the first cached route whose prefix
 * matches and ignores tables and rules, a server whose /32 host route is `unreachable` in table 1 is unreachable
 * here even when main has a default route, and a marked packet never "finds" the mesh's route in main.
 */
import type { LookupResult, Route, RouteCache } from '@meshwan/netlink';
import type { Endpoint } from '@meshwan/site';

/** RTNH_F_DEAD, RTNH_F_LINKDOWN (include/uapi/linux/rtnetlink.h): a nexthop whose link is down or gone. */
const NEXTHOP_DOWN = 1 | 16;

/** Where a marked query to one upstream goes, as `wan-dns --status` shows it. */
export interface RouteState {
  /** A marked packet to the server has a usable route (a unicast or local route whose device is up). */
  reachable: boolean;
  /** The lookup's verdict ('route', 'unreachable', 'prohibit', 'blackhole') or 'linkdown' (route via a dead link). */
  verdict: string;
  /** The route in words: `via 192.0.2.1 dev wan0 table 1`, or why not reachable. */
  reason: string;
  /** Output device(s): `wan0`, or `wan0,wwan0` for multipath. */
  dev?: string;
  table?: number;
  gateway?: string;
  /** Priority of the rule that decided (`fwmark 0x1/0x1 lookup 1` is usually 1000 or Gluon's own). */
  rulePriority?: number;
  /** The source address the kernel picks for it (RTM_GETROUTE's RTA_PREFSRC), filled in by route-watch.ts. */
  source?: string;
}

function prefixText(r: Route): string {
  const any = r.family === 4 ? '0.0.0.0' : '::';
  return r.dstLength === 0 && r.dst === any ? 'default' : `${r.dst}/${r.dstLength}`;
}

/** `unreachable default metric 65535`: a route as `ip route` names it (enough to recognise it). */
export function routeText(r: Route): string {
  return `${r.type === 'unicast' ? '' : `${r.type} `}${prefixText(r)}${r.metric ? ` metric ${r.metric}` : ''}`;
}

/** The lookup `cache.lookup(server, { mark })` and what it means for sending a query there. */
export function routeState(cache: RouteCache, server: Endpoint, mark: number): RouteState {
  let result: LookupResult;
  try {
    // A scoped link-local server (fe80::1%wan) is sent through its device: the lookup gets it as the oif.
    result = cache.lookup(server.address, server.scope === undefined ? { mark } : { mark, oif: server.scope });
  } catch (err: unknown) {
    // RequestError (an address the lookup cannot parse, a device that does not exist): no route, said why.
    return { reachable: false, verdict: 'error', reason: err instanceof Error ? err.message : String(err) };
  }
  const table = result.table;
  const rulePriority = result.rule?.priority;
  const where = `${table === undefined ? '' : ` in table ${table}`}${rulePriority === undefined ? '' : ` (rule ${rulePriority})`}`;
  const route = result.route;
  if (result.verdict !== 'route') {
    const what = route
      ? `${routeText(route)}${where}`
      : result.rule && result.rule.action !== 'lookup'
        ? `${result.rule.action} rule${where}`
        : 'no route';
    return { reachable: false, verdict: result.verdict, reason: `${what}${result.code ? ` (${result.code})` : ''}`, table, rulePriority };
  }
  if (route === undefined) {
    // IPv4 with an oif and no route: the kernel sends on-link through that device.
    return { reachable: true, verdict: 'route', reason: `on-link dev ${server.scope ?? '?'}`, dev: server.scope, table, rulePriority };
  }
  const hops = route.nexthops ?? [{ gateway: route.gateway, oif: route.oif ?? 0, weight: 1, flags: route.flags }];
  const names = hops.map((h) => cache.link(h.oif)?.name ?? (h.oif ? `if${h.oif}` : ''));
  const dev = names.filter((n) => n !== '').join(',') || undefined;
  const gateway = hops.map((h) => h.gateway).find((g) => g !== undefined);
  const usable = hops.filter((h) => {
    if (h.flags & NEXTHOP_DOWN) return false;
    const link = h.oif ? cache.link(h.oif) : undefined;
    // A route through a link that is down or has no carrier stays in IPv6 tables (flagged linkdown); packets die.
    return link === undefined || (link.adminUp && (link.carrier || link.name === 'lo'));
  });
  const text = `${gateway ? `via ${gateway} ` : ''}${dev ? `dev ${dev}` : ''}${where}`.trim();
  if (usable.length === 0) {
    return { reachable: false, verdict: 'linkdown', reason: `${text}: link down`, dev, table, gateway, rulePriority };
  }
  return { reachable: true, verdict: 'route', reason: text, dev, table, gateway, rulePriority };
}

/** How a server's route changed between two evaluations; undefined when nothing that matters did. */
export type RouteChange = 'lost' | 'back' | 'moved';

export function routeChange(before: RouteState | undefined, after: RouteState): RouteChange | undefined {
  if (!after.reachable) return before === undefined || before.reachable ? 'lost' : undefined;
  if (before === undefined) return undefined;
  if (!before.reachable) return 'back';
  return before.source !== after.source || before.dev !== after.dev ? 'moved' : undefined;
}

/** `reachable dev wan0 table 1 via 192.0.2.1 src 192.0.2.2` / `unreachable: unreachable default ... (EHOSTUNREACH)`. */
export function formatRoute(s: RouteState): string {
  if (!s.reachable) return `unreachable: ${s.reason}`;
  return `reachable ${s.reason}${s.source ? ` src ${s.source}` : ''}`;
}
