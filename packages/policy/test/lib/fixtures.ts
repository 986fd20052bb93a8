/** Shared literals: a Gluon node's network sections (package/gluon-core 110-network) and kernel states. */
import { type Prefix, parsePrefix } from '../../src/ip.js';
import type { Route } from '../../src/model.js';
import type { UciSectionInput } from '../../src/uci-input.js';

export const gluonNetwork: UciSectionInput[] = [
  { type: 'interface', name: 'loopback', options: { ifname: 'lo', proto: 'static', ipaddr: '127.0.0.1', netmask: '255.0.0.0' } },
  { type: 'interface', name: 'wan', options: { ifname: 'eth0', type: 'bridge', proto: 'dhcp', peerdns: '0' } },
  {
    type: 'interface',
    name: 'wan6',
    options: { ifname: 'br-wan', proto: 'dhcpv6', peerdns: '0', ip6table: '1', sourcefilter: '0', reqprefix: 'no' },
  },
  { type: 'interface', name: 'mesh', options: { device: 'bat0', proto: 'static' } },
  { type: 'rule6', name: 'wan6_lookup', options: { mark: '0x01/0x01', lookup: '1' } },
  {
    type: 'route6',
    name: 'wan6_unreachable',
    options: { type: 'unreachable', interface: 'loopback', target: '::/0', gateway: '::', table: '1', metric: '65535' },
  },
];

export const split = { mark: 1, mask: 1, table: 1 };

/** The WAN's IPv6 default as an RA puts it in main (via fe80::1 on br-wan, metric 1024, proto ra), with `over`. */
export function raDefault(over: Partial<Route> = {}): Route {
  return {
    family: 6,
    table: 254,
    dst: parsePrefix('::/0') as Prefix,
    type: 'unicast',
    dev: 'br-wan',
    gateway: 'fe80::1',
    metric: 1024,
    protocol: 9,
    ...over,
  };
}
