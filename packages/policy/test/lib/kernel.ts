/**
 * A KernelState from literals in policy's terms: the links, addresses and routes become @meshwan/netlink objects (as a
 * dump decodes them) in a RouteCache, and readKernel reads them back, so a pure test sees exactly what production does.
 */
import { FOREVER, type Address as NlAddress, type Link as NlLink, type Route as NlRoute, RouteCache, type Rule } from '@meshwan/netlink';
import { formatAddress, isLinkLocalText } from '../../src/ip.js';
import { readKernel } from '../../src/kernel.js';
import type { Route } from '../../src/model.js';
import type { Address, KernelState, Link } from '../../src/state.js';

export function kernelState(
  links: readonly Link[],
  addresses: readonly Address[],
  rules: readonly Rule[],
  routes: readonly Route[],
): KernelState {
  const index = (dev: string | undefined) => links.find((l) => l.name === dev)?.ifindex;
  const nlLinks: NlLink[] = links.map((l) => ({
    index: l.ifindex,
    name: l.name,
    adminUp: l.up,
    carrier: l.up,
    operstate: l.up ? 'up' : 'down',
    mtu: 1500,
    linkType: 1,
    address: '',
    broadcast: '',
    flags: l.up ? 1 : 0,
    unknown: [],
  }));
  const nlAddresses: NlAddress[] = addresses.map((a) => ({
    family: a.family,
    index: index(a.dev) ?? 0,
    address: a.address,
    prefixLength: a.len,
    scope: a.family === 6 && isLinkLocalText(a.address) ? 'link' : 'global',
    flags: 0x80,
    flagNames: ['permanent'],
    preferredLifetimeSeconds: FOREVER,
    validLifetimeSeconds: FOREVER,
    unknown: [],
  }));
  const nlRoutes: NlRoute[] = routes.map((r) => {
    const oif = index(r.dev);
    return {
      family: r.family,
      table: r.table,
      type: r.type,
      dst: formatAddress(r.family, r.dst.addr),
      dstLength: r.dst.len,
      ...(r.src ? { src: formatAddress(r.family, r.src.addr) } : {}),
      srcLength: r.src?.len ?? 0,
      tos: 0,
      ...(r.gateway !== undefined ? { gateway: r.gateway } : {}),
      ...(oif !== undefined ? { oif } : {}),
      metric: r.metric,
      protocol: r.protocol,
      scope: r.scope ?? 0,
      ...(r.nexthops
        ? {
            nexthops: r.nexthops.map((h) => ({
              ...(h.gateway !== undefined ? { gateway: h.gateway } : {}),
              oif: index(h.dev) ?? 0,
              weight: h.weight,
              flags: 0,
            })),
          }
        : {}),
      flags: r.onlink ? 4 : 0,
      unknown: [],
    };
  });
  const cache = new RouteCache();
  // A dump lists rules in the kernel's walk order (priority, then insertion), which the cache keeps.
  const ordered = [...rules].sort((x, y) => x.priority - y.priority);
  cache.load({ links: nlLinks, addresses: nlAddresses, rules: ordered, routes: nlRoutes });
  return readKernel(cache);
}
