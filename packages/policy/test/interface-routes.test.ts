import t from 'tap';
import { deriveDesired } from '../src/desired.js';
import { interfaceRoutes, isKernelPrefixRoute } from '../src/interface-routes.js';
import { type Prefix, parsePrefix } from '../src/ip.js';
import { formatRoute, type Route, RTPROT_KERNEL } from '../src/model.js';
import { parseNetwork } from '../src/network.js';
import type { Address, Link } from '../src/state.js';
import { split } from './lib/fixtures.js';

const link: Link = { name: 'wan0', ifindex: 2, up: true };
function addr(text: string, dev = 'wan0'): Address {
  const [address = '', len = ''] = text.split('/');
  return { dev, family: address.includes(':') ? 6 : 4, address, len: Number(len) };
}
const addresses = [addr('192.0.2.5/24'), addr('2001:db8:1::5/64'), addr('fe80::5/64'), addr('198.51.100.9/24', 'mesh0')];

function wan(options: Record<string, string>) {
  const config = parseNetwork([
    { type: 'interface', name: 'wan', options: { device: 'wan0', proto: 'static', ip4table: '1', ip6table: '1', ...options } },
  ]);
  return { config, iface: config.interfaces.get('wan') };
}

t.test("netifd's subnet routes and gateway defaults, in the interface's tables", async (t) => {
  const { iface } = wan({ gateway: '192.0.2.1', ip6gw: '2001:db8:1::1' });
  if (!iface) throw new Error('wan');
  t.same(interfaceRoutes(iface, link, addresses).map(formatRoute), [
    '192.0.2.0/24 dev wan0 table 1 proto static metric 0',
    'default via 192.0.2.1 dev wan0 table 1 proto static metric 0',
    '2001:db8:1::/64 dev wan0 table 1 proto static metric 1024',
    'default via 2001:db8:1::1 dev wan0 table 1 proto static metric 1024',
  ]);
  t.equal(interfaceRoutes(iface, link, addresses)[0]?.scope, 253, 'IPv4 subnet route: scope link, no src');
  const metric = wan({ metric: '20', ip6gw: 'fe80::1' }).iface;
  if (!metric) throw new Error('wan');
  t.same(
    interfaceRoutes(metric, link, addresses).map((r) => `${formatRoute(r)}`),
    [
      '192.0.2.0/24 dev wan0 table 1 proto static metric 20',
      '2001:db8:1::/64 dev wan0 table 1 proto static metric 20',
      'default via fe80::1 dev wan0 table 1 proto static metric 20',
    ],
    "the interface's metric; a link-local gateway needs no prefix",
  );
});

t.test('a gateway on none of the addresses, no address, no table: no route', async (t) => {
  const { iface } = wan({ gateway: '203.0.113.1', ip6gw: '::' });
  if (!iface) throw new Error('wan');
  t.same(
    interfaceRoutes(iface, link, addresses).filter((r) => r.dst.len === 0),
    [],
    'an off-link IPv4 gateway; an all-zero ip6gw is none',
  );
  t.same(interfaceRoutes(iface, link, []), [], 'no address yet');
  const plain = parseNetwork([{ type: 'interface', name: 'wan', options: { device: 'wan0', proto: 'static', gateway: '192.0.2.1' } }]);
  const noTable = plain.interfaces.get('wan');
  if (!noTable) throw new Error('wan');
  t.same(interfaceRoutes(noTable, link, addresses), [], "without a table they are main's, which meshwan leaves alone");
  const dhcp = parseNetwork([{ type: 'interface', name: 'wan', options: { device: 'wan0', proto: 'dhcp', gateway: '192.0.2.1' } }]);
  t.equal(dhcp.interfaces.get('wan')?.gateway4, undefined, 'gateway is an option of proto static only');
});

t.test('a gateway of the wrong family is a config error naming the option', async (t) => {
  const { config } = wan({ ip6gw: '192.0.2.1' });
  t.equal(config.errors.length, 1);
  t.match(config.errors[0]?.message, /ip6gw/);
});

t.test("the kernel's prefix route is replaced, not moved; others are moved as before", async (t) => {
  const kernel: Route = {
    family: 4,
    table: 254,
    dst: parsePrefix('192.0.2.0/24') as Prefix,
    type: 'unicast',
    dev: 'wan0',
    metric: 0,
    protocol: RTPROT_KERNEL,
    prefsrc: '192.0.2.5',
  };
  t.ok(isKernelPrefixRoute(kernel, link, addresses));
  t.notOk(isKernelPrefixRoute({ ...kernel, expiresSeconds: 100 }, link, addresses), 'an RA route');
  t.notOk(isKernelPrefixRoute({ ...kernel, dst: parsePrefix('192.0.2.0/25') as Prefix }, link, addresses), 'another prefix');
  t.notOk(isKernelPrefixRoute({ ...kernel, gateway: '192.0.2.1' }, link, addresses));
  t.notOk(isKernelPrefixRoute({ ...kernel, table: 1 }, link, addresses));
  const { config } = wan({ gateway: '192.0.2.1' });
  const desired = deriveDesired(config, split, { links: [link], addresses, routes: [kernel] });
  t.same(desired.unwantedRoutes, [kernel]);
  t.same(
    desired.moves.map((m) => formatRoute(m.to)),
    ['192.0.2.0/24 dev wan0 table 1 proto static metric 0'],
  );
  t.ok(
    desired.configRoutes.some((r) => r.gateway === '192.0.2.1'),
    'recorded with the config routes',
  );
  const beside = deriveDesired(config, split, { links: [link], addresses, routes: [kernel], netifd: true });
  t.same(beside.configRoutes, [], "beside netifd they are netifd's");
  t.same(
    beside.moves.map((m) => formatRoute(m.to)),
    ['192.0.2.0/24 dev wan0 table 1 proto kernel metric 0 src 192.0.2.5'],
    'beside netifd a kernel prefix route is moved unchanged',
  );
});
