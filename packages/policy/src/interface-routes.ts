/**
 * The routes netifd derives from an interface itself, not from `config route` sections (issue #19), for meshwan
 * alone (no netifd, as in `make sim`) to make them exactly as netifd would:
 * - the subnet route of each of the interface's addresses (interface-ip.c interface_handle_subnet_route): netifd
 *   deletes the kernel's prefix route and adds its own to the interface's table, `proto static`, the interface's
 *   metric (an IPv6 route sent without one is stored at 1024), IPv4 `scope link`, no `src`;
 * - proto static's `gateway`/`ip6gw` (proto.c parse_gateway_option): `default via GW` in that table, same metric.
 * Beside netifd they are netifd's and meshwan makes none of them.
 */
import type { IpFamily } from '@meshwan/os';
import { isLinkLocal6, isLinkLocalText, network, type Prefix, parseAddress, prefixContains } from './ip.js';
import { type Route, RT_TABLE_MAIN, RTPROT_KERNEL, RTPROT_STATIC } from './model.js';
import type { InterfaceConfig } from './network.js';
import type { Address, Link } from './state.js';

/** RT_SCOPE_LINK: netifd's IPv4 subnet route has no gateway (system_rt picks link scope for it). */
const RT_SCOPE_LINK = 253;

/** The interface's own address prefixes on `link` (netlink reports canonical text; prefix arithmetic wants bits). */
function ownPrefixes(link: Link, addresses: readonly Address[], family: IpFamily): Prefix[] {
  return addresses.flatMap((a) => {
    // The kernel's link-local address is not one of the interface's (netifd never configured it).
    if (a.dev !== link.name || a.family !== family || (family === 6 && isLinkLocalText(a.address))) return [];
    const parsed = parseAddress(a.address);
    return parsed === undefined ? [] : [{ family, addr: parsed.addr, len: a.len }];
  });
}

/** IP6_RT_PRIO_USER: the kernel stores an IPv6 route sent without RTA_PRIORITY (netifd's metric 0) at 1024. */
function routeMetric(family: IpFamily, metric: number): number {
  return family === 6 && metric === 0 ? 1024 : metric;
}

function onLink(gateway: string, own: readonly Prefix[]): boolean {
  const gw = parseAddress(gateway);
  if (gw === undefined || own.length === 0) return false;
  return (gw.family === 6 && isLinkLocal6(gw.addr)) || own.some((p) => prefixContains(p, gw.addr));
}

/** The subnet routes and gateway defaults netifd adds for `iface` on `link`, in the interface's tables only. */
export function interfaceRoutes(iface: InterfaceConfig, link: Link, addresses: readonly Address[]): Route[] {
  const routes: Route[] = [];
  for (const family of [4, 6] as const) {
    const table = family === 6 ? iface.ip6table : iface.ip4table;
    // Without a table netifd's routes go to main, the mesh's table, which meshwan does not manage.
    if (table === undefined) continue;
    const own = ownPrefixes(link, addresses, family);
    const metric = routeMetric(family, iface.metric);
    const base = { family, table, type: 'unicast', dev: link.name, metric, protocol: RTPROT_STATIC } as const;
    for (const prefix of own) {
      routes.push({ ...base, dst: network(prefix), ...(family === 4 ? { scope: RT_SCOPE_LINK } : {}) });
    }
    const gateway = family === 6 ? iface.gateway6 : iface.gateway4;
    // netifd adds the default once the interface is up with its address. Alone, the address comes from elsewhere
    // (a DHCP client): a gateway on none of its prefixes (nor link-local) the kernel would refuse on every pass.
    if (gateway !== undefined && onLink(gateway, own)) routes.push({ ...base, dst: { family, addr: 0n, len: 0 }, gateway });
  }
  return routes;
}

/**
 * The kernel's own prefix route of one of the link's addresses, in main: netifd deletes it and adds its subnet
 * route instead, so alone meshwan replaces it rather than moving it. Routes with a lifetime (router advertisements)
 * are not the kernel's for an address and keep being moved.
 */
export function isKernelPrefixRoute(route: Route, link: Link, addresses: readonly Address[]): boolean {
  if (route.table !== RT_TABLE_MAIN || route.protocol !== RTPROT_KERNEL || route.dev !== link.name) return false;
  if (route.gateway !== undefined || route.nexthops !== undefined || route.expiresSeconds !== undefined || route.type !== 'unicast')
    return false;
  return ownPrefixes(link, addresses, route.family).some((p) => p.len === route.dst.len && network(p).addr === route.dst.addr);
}
