/**
 * Config + observed links, addresses and main-table routes → the rules and routes that must exist. Two sources:
 * (1) exactly what netifd derives from the same sections (so that on OpenWrt the two agree rule for rule), and
 * (2) meshwan's gate, which closes gluon #520: netifd's `from WANADDR lookup T` (pref 10000) is consulted for any
 * packet whose source is a WAN address, and the kernel retries an IPv6 lookup that failed in main with the source
 * it picked (ip6_dst_lookup_tail), which is often the WAN address. The gate sits between netifd's ordered rules
 * (1, 2, …) and its address rules (10000): unmarked packets may use main and nothing after it.
 */
import type { Rule } from '@meshwan/netlink';
import type { IpFamily } from '@meshwan/os';
import { interfaceRoutes, isKernelPrefixRoute } from './interface-routes.js';
import { isLinkLocal6, isLinkLocalText, network, parsePrefix, samePrefix } from './ip.js';
import { newRule, type Route, RT_TABLE_MAIN, RTPROT_KERNEL, RTPROT_MESHWAN, RTPROT_STATIC, routeKey, ruleKey } from './model.js';
import type { InterfaceConfig, NetworkConfig } from './network.js';
import type { Address, Link, SplitParams } from './state.js';
import { managedUplink, noUplinks, type UplinksView } from './uplinks.js';

/** netifd iprule.h. */
const IPRULE_PRIORITY_ADDR = 10000;
const IPRULE_PRIORITY_ADDR_MASK = 20000;
const IPRULE_PRIORITY_NW = 90000;
/** netifd iprule.h: its `iif DEV failed_policy` rule sits at this plus the device's ifindex. */
export const IPRULE_PRIORITY_REJECT = 4200000000;

/**
 * The gate: `not fwmark M/M lookup main` then `not fwmark M/M unreachable`, then `fwmark M/M unreachable`.
 * 9000 is above any realistic count of unprioritised uci rules (netifd numbers them 1, 2, …, so Gluon's
 * wan6_lookup is pref 1 and stays first) and below netifd's address rules at 10000, which are what leak.
 * The third rule catches a marked packet that table T did not resolve (its unreachable default deleted): it must
 * fail, not fall through to main and into the mesh.
 */
export const GATE_PRIORITY = 9000;

export interface Desired {
  readonly rules: readonly Rule[];
  /** Routes that must exist (config sections, and WAN routes moved into table T). */
  readonly routes: readonly Route[];
  /**
   * The subset of `routes` netifd would add from the config: `config route`/`route6` sections and, alone, each
   * interface's subnet routes and gateway defaults (interface-routes.ts). Recorded, so that one no longer derived
   * (its section deleted, its address gone) is removed.
   */
  readonly configRoutes: readonly Route[];
  /** Routes that must not exist: the WAN device's routes in main. */
  readonly unwantedRoutes: readonly Route[];
  /** Each unwanted route with the route that replaces it in its table: its delete waits for that add (plan.ts). */
  readonly moves: readonly Move[];
  /**
   * The routes a previous pass moved (moved.ts) that still belong where they were put (device up, same target,
   * their address still there): in `routes` too, so that one deleted from its table (`ip route flush table 1`)
   * is put back. A recorded route no longer listed here is forgotten.
   */
  readonly kept: readonly Route[];
  /** The tables whose lookup rules meshwan (like netifd) owns: T and every ip6table/ip4table. */
  readonly ownedTables: ReadonlySet<number>;
  /** The families the gate covers: IPv6 always, IPv4 when an interface has ip4table. */
  readonly gatedFamilies: readonly IpFamily[];
  /**
   * netifd runs beside meshwan (netifd.ts): it owns every rule and route it derives from the config, so `rules`
   * holds only the gate, `routes` no config route, and the plan deletes none of netifd's (proto unspec) rules and
   * no recorded config route (netifd's own carry the same attributes).
   */
  readonly netifd: boolean;
}

interface Move {
  /** The route where it was found (main, or table T for a default parked for an uplink). */
  readonly from: Route;
  /** The same route, every attribute kept, in the table it belongs to. */
  readonly to: Route;
}

export interface Observed {
  readonly links: readonly Link[];
  readonly addresses: readonly Address[];
  /** The current routes (main is what is read: WAN routes to move). */
  readonly routes: readonly Route[];
  /** Whether netifd runs beside meshwan (netifd.ts); unset: it does not. */
  readonly netifd?: boolean;
}

function gateRules(family: IpFamily, split: SplitParams): Rule[] {
  const base = { family: family, fwmark: split.mark, fwmask: split.mask, protocol: RTPROT_MESHWAN } as const;
  return [
    newRule({ ...base, priority: GATE_PRIORITY, action: 'lookup', table: RT_TABLE_MAIN, invert: true }),
    newRule({ ...base, priority: GATE_PRIORITY + 1, action: 'unreachable', invert: true }),
    newRule({ ...base, priority: GATE_PRIORITY + 2, action: 'unreachable' }),
  ];
}

/** A device is usable when it exists and is up: netifd brings an interface up only then. */
function upLink(links: readonly Link[], dev: string | undefined): Link | undefined {
  return dev === undefined ? undefined : links.find((l) => l.name === dev && l.up);
}

function policyRules(iface: InterfaceConfig, link: Link, addresses: readonly Address[], ipv6Device: boolean): Rule[] {
  const rules: Rule[] = [];
  for (const family of [6, 4] as const) {
    const nlFamily = family;
    const table = family === 6 ? iface.ip6table : iface.ip4table;
    if (table === undefined) continue;
    for (const a of addresses) {
      // netifd adds these for the interface's own (proto) addresses; the kernel's link-local is not one of them.
      if (a.dev !== link.name || a.family !== family || (family === 6 && isLinkLocalText(a.address))) continue;
      const bits = family === 6 ? 128 : 32;
      const { address } = a;
      // interface_add_addr_rules: `from ADDR lookup T` and `to ADDR/LEN lookup T` (host bits kept, as netifd sends them).
      rules.push(newRule({ family: nlFamily, priority: IPRULE_PRIORITY_ADDR, action: 'lookup', table, src: address, srcLength: bits }));
      rules.push(
        newRule({ family: nlFamily, priority: IPRULE_PRIORITY_ADDR_MASK, action: 'lookup', table, dst: address, dstLength: a.len }),
      );
    }
    // set_ip_lo_policy: locally generated traffic that main did not route may use T. interface_ip_set_enabled
    // adds the IPv6 one only when the device's configured `ipv6` setting is on, the IPv4 one always.
    if (family === 4 || ipv6Device)
      rules.push(newRule({ family: nlFamily, priority: IPRULE_PRIORITY_NW + link.ifindex, action: 'lookup', table, iif: 'lo' }));
  }
  // interface_ip_set_enabled: with the device's `ipv6` on, packets arriving on it that no rule above resolved fail
  // (RTN_FAILED_POLICY), whether or not the interface has an ip6table. netifd adds it once per interface on the
  // device; the kernel keeps identical copies, meshwan one (it routes the same).
  if (ipv6Device)
    rules.push(newRule({ family: 6, priority: IPRULE_PRIORITY_REJECT + link.ifindex, action: 'failed_policy', iif: link.name }));
  return rules;
}

function configRules(config: NetworkConfig, links: readonly Link[]): Rule[] {
  const rules: Rule[] = [];
  for (const r of config.rules) {
    // Interface-bound rules exist only while the interface is up (rule_in_cb / rule_out_cb).
    const iif = r.in === undefined ? undefined : upLink(links, config.interfaces.get(r.in)?.device)?.name;
    const oif = r.out === undefined ? undefined : upLink(links, config.interfaces.get(r.out)?.device)?.name;
    if ((r.in !== undefined && iif === undefined) || (r.out !== undefined && oif === undefined)) continue;
    rules.push({ ...r.rule, ...(iif !== undefined ? { iif } : {}), ...(oif !== undefined ? { oif } : {}) });
  }
  return rules;
}

function configRoutes(config: NetworkConfig, links: readonly Link[]): Route[] {
  const routes: Route[] = [];
  for (const r of config.routes) {
    const iface = config.interfaces.get(r.interface);
    if (!iface || iface.disabled) continue;
    const link = upLink(links, iface.device);
    if (!link) continue;
    const type = r.type ?? 'unicast';
    // system_rt: a route of a non-forwarding type has no device; so has a section without `interface`.
    const dev = r.noDevice || !['unicast', 'local', 'broadcast', 'anycast', 'multicast'].includes(type) ? undefined : link.name;
    // interface_set_route_info: no table → the interface's ip6table/ip4table; no metric → the interface's.
    const table = r.table ?? (r.family === 6 ? iface.ip6table : iface.ip4table) ?? RT_TABLE_MAIN;
    const metric = r.metric ?? iface.metric;
    routes.push({
      family: r.family,
      table,
      dst: r.target,
      type,
      // IP6_RT_PRIO_USER: the kernel stores an IPv6 route sent without RTA_PRIORITY at 1024.
      metric: metric === 0 && r.family === 6 ? 1024 : metric,
      protocol: r.proto ?? RTPROT_STATIC,
      ...(dev !== undefined ? { dev } : {}),
      ...(r.gateway !== undefined ? { gateway: r.gateway } : {}),
      ...(r.source !== undefined ? { src: network(r.source) } : {}),
      ...(r.mtu !== undefined ? { mtu: r.mtu } : {}),
    });
  }
  return routes;
}

/**
 * Where a WAN route of `link` found in `route.table` belongs: the interface's table (moved out of main), or, for a
 * default of a device the uplinks daemon manages, that uplink's probe table: out of the WAN table, where it would
 * outlive the daemon's choice (no fail-closed when every uplink is down), yet still visible to the daemon, which
 * learns the gateway from it, and usable only by that uplink's probe-marked packets. Undefined: leave it.
 */
function wanRouteTarget(route: Route, link: Link, table: number, uplinks: UplinksView): number | undefined {
  if (route.dev !== link.name || route.nexthops !== undefined || route.protocol === uplinks.protocol) return undefined;
  // The link-local prefix stays in main, as netifd leaves it: behind the gate, unmarked link-local packets out of
  // the WAN (a DHCPv6 client's unicast, replies to link-local peers) have main only (README "Link-local").
  if (route.family === 6 && route.dst.len > 0 && isLinkLocal6(route.dst.addr)) return undefined;
  const isDefault = route.dst.len === 0 && route.type === 'unicast' && route.src === undefined;
  const uplink = isDefault ? managedUplink(uplinks, link.name, route.family) : undefined;
  if (route.table === RT_TABLE_MAIN) return uplink?.probeTable ?? table;
  if (uplink !== undefined) return route.table === table ? uplink.probeTable : undefined;
  // Parked for an uplink that is no longer enabled (meshwan-uplinks flushed its own default): back to the WAN table.
  const parked = uplinks.parking.some((p) => p.device === link.name && p.family === route.family && p.probeTable === route.table);
  return isDefault && parked ? table : undefined;
}

/**
 * Whether a route policy moved earlier may be put back where it is: the kernel would still have it there had
 * nobody deleted it. Its device is up (a link going down flushes its routes; netifd re-adds them to main, where
 * they are moved again), the config still sends it to that table, and a prefix or `src` address it hangs on is
 * still on the device (the kernel drops those routes with the address).
 */
function stillBelongs(route: Route, link: Link, table: number, uplinks: UplinksView, addresses: readonly Address[]): boolean {
  if (wanRouteTarget({ ...route, table: RT_TABLE_MAIN }, link, table, uplinks) !== route.table) return false;
  const own = addresses.filter((a) => a.dev === link.name && a.family === route.family);
  // Both canonical text: a dumped address, and a prefsrc from a dump or a record written from one.
  if (route.prefsrc !== undefined && !own.some((a) => a.address === route.prefsrc)) return false;
  if (route.protocol === RTPROT_KERNEL && route.gateway === undefined) {
    return own.some((a) => {
      const p = parsePrefix(`${a.address}/${a.len}`, a.family);
      return p !== undefined && samePrefix(network(p), route.dst);
    });
  }
  return true;
}

/**
 * Derives everything that must (and must not) be in the kernel. `moved`: the routes previous passes moved (the
 * caller leaves out the ones whose RA lifetime has run out).
 */
export function deriveDesired(
  config: NetworkConfig,
  split: SplitParams,
  observed: Observed,
  uplinks: UplinksView = noUplinks,
  moved: readonly Route[] = [],
): Desired {
  const rules: Rule[] = [];
  const routes: Route[] = [];
  const unwantedRoutes: Route[] = [];
  const moves: Move[] = [];
  const kept: Route[] = [];
  const ownedTables = new Set<number>([split.table]);
  const gatedFamilies: IpFamily[] = [6];
  for (const iface of config.interfaces.values()) {
    if (iface.ip6table !== undefined) ownedTables.add(iface.ip6table);
    if (iface.ip4table !== undefined) {
      ownedTables.add(iface.ip4table);
      if (!gatedFamilies.includes(4)) gatedFamilies.push(4);
    }
  }
  for (const family of gatedFamilies) rules.push(...gateRules(family, split));
  const netifd = observed.netifd === true;
  if (!netifd) rules.push(...configRules(config, observed.links));
  const derived: Route[] = netifd ? [] : configRoutes(config, observed.links);
  for (const iface of config.interfaces.values()) {
    if (iface.disabled) continue;
    const link = upLink(observed.links, iface.device);
    if (!link) continue;
    if (!netifd) {
      rules.push(...policyRules(iface, link, observed.addresses, config.ipv6Devices.has(link.name)));
      derived.push(...interfaceRoutes(iface, link, observed.addresses));
    }
    for (const route of observed.routes) {
      const table = route.family === 6 ? iface.ip6table : iface.ip4table;
      if (table === undefined) continue;
      // Alone, the kernel's prefix route gives way to netifd's subnet route (interface-routes.ts), added first.
      if (!netifd && isKernelPrefixRoute(route, link, observed.addresses)) {
        unwantedRoutes.push(route);
        const to = interfaceRoutes(iface, link, observed.addresses).find((r) => r.family === route.family && samePrefix(r.dst, route.dst));
        if (to !== undefined) moves.push({ from: route, to });
        continue;
      }
      // The WAN device's routes (kernel prefix and link-local routes, RA and DHCP defaults) belong in T only,
      // except a default the uplinks daemon replaces with its own (wanRouteTarget).
      const target = wanRouteTarget(route, link, table, uplinks);
      if (target === undefined) continue;
      unwantedRoutes.push(route);
      // Every attribute rides along (onlink, pref, scope, and expiresSeconds: the moved route gets the time the RA
      // route had left, see toRouteRequest): only the table changes.
      const to = { ...route, table: target };
      routes.push(to);
      moves.push({ from: route, to });
    }
    for (const route of moved) {
      const table = route.family === 6 ? iface.ip6table : iface.ip4table;
      if (table === undefined || !stillBelongs(route, link, table, uplinks, observed.addresses)) continue;
      kept.push(route);
    }
  }
  // Recorded with the config routes (installed.ts), so that one whose address or gateway left is deleted.
  const fromConfig = dedupe(derived);
  // A route moved again this pass (out of a table it was parked in) is no longer where the record says.
  const leaving = new Set(unwantedRoutes.map(routeKey));
  const keptHere = dedupe(kept.filter((r) => !leaving.has(routeKey(r))));
  const ruleKeys = new Set<string>();
  const uniqueRules = rules.filter((r) => !ruleKeys.has(ruleKey(r)) && Boolean(ruleKeys.add(ruleKey(r))));
  return {
    rules: uniqueRules,
    routes: dedupe([...fromConfig, ...routes, ...keptHere]),
    configRoutes: fromConfig,
    unwantedRoutes,
    moves,
    kept: keptHere,
    ownedTables,
    gatedFamilies,
    netifd,
  };
}

function dedupe(routes: Route[]): Route[] {
  const seen = new Set<string>();
  return routes.filter((r) => {
    const key = `${r.family}|${r.table}|${r.dst.addr}/${r.dst.len}|${r.metric}|${r.dev ?? ''}|${r.gateway ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
