import { defaultSite, parseSite } from '@meshwan/site';
import t from 'tap';
import { applyEdits, findSection } from '../src/config.js';
import { planNetwork } from '../src/network.js';
import { sec } from './helpers.js';

const site = defaultSite();

/** Gluon's table-1 floor for IPv6, as 110-network writes it (the end state of every plan here). */
const wan6Unreachable = { type: 'unreachable', interface: 'loopback', target: '::/0', gateway: '::', table: '1', metric: '65535' };

/** A static IPv4 WAN's options on a /24, with `extra` (device, MAC, peerdns, ...). */
function staticWan4(ipaddr: string, gateway: string, extra: Record<string, string>): Record<string, string> {
  return { proto: 'static', ipaddr, netmask: '255.255.255.0', gateway, ...extra };
}

t.test("a fresh, empty network gets Gluon's sections, and a second plan is empty", async (t) => {
  const once = applyEdits([], planNetwork([], undefined, site));
  t.same(
    once.map((s) => [s.type, s.name]),
    [
      ['interface', 'loopback'],
      ['interface', 'wan'],
      ['interface', 'wan6'],
      ['rule6', 'wan6_lookup'],
      ['route6', 'wan6_unreachable'],
    ],
  );
  t.same(findSection(once, 'wan')?.options, { proto: 'dhcp', peerdns: '0' });
  t.same(findSection(once, 'wan6')?.options, {
    proto: 'dhcpv6',
    device: '@wan',
    peerdns: '0',
    ip6table: '1',
    sourcefilter: '0',
    reqprefix: 'no',
  });
  t.same(findSection(once, 'wan6_lookup')?.options, { mark: '0x01/0x01', lookup: '1' });
  t.same(findSection(once, 'wan6_unreachable')?.options, wan6Unreachable);
  t.same(planNetwork(once, undefined, site), []);
});

t.test('mark, mask and table come from the site file', async (t) => {
  const custom = parseSite('[wan]\nmark = 0x4\nmask = 0xc\ntable = 42\n', 'site.ini');
  const out = applyEdits([], planNetwork([], undefined, custom));
  t.same(findSection(out, 'wan6_lookup')?.options, { mark: '0x04/0x0c', lookup: '42' });
  t.equal(findSection(out, 'wan6_unreachable')?.options.table, '42');
  t.equal(findSection(out, 'wan6')?.options.ip6table, '42');
});

t.test("a user's static WAN, VLAN device and MAC survive; only the split options are forced", async (t) => {
  const sections = [
    sec('interface', 'loopback', { device: 'lo', proto: 'static', ipaddr: '127.0.0.1', netmask: '255.0.0.0' }),
    sec('device', 'cfg030f15', { type: '8021q', ifname: 'eth0', vid: '7', name: 'eth0.7' }, true),
    sec('interface', 'wan', staticWan4('192.0.2.10', '192.0.2.1', { device: 'eth0.7', macaddr: '02:00:00:00:00:07', peerdns: '1' })),
    sec('interface', 'wan6', { device: 'eth0.7', proto: 'static', ip6addr: '2001:db8::10/64', ip6gw: '2001:db8::1' }),
  ];
  const out = applyEdits(sections, planNetwork(sections, undefined, site));
  t.same(
    findSection(out, 'wan')?.options,
    staticWan4('192.0.2.10', '192.0.2.1', { device: 'eth0.7', macaddr: '02:00:00:00:00:07', peerdns: '0' }),
  );
  t.same(findSection(out, 'wan6')?.options, {
    device: 'eth0.7',
    proto: 'static',
    ip6addr: '2001:db8::10/64',
    ip6gw: '2001:db8::1',
    peerdns: '0',
    ip6table: '1',
    sourcefilter: '0',
    reqprefix: 'no',
  });
  t.same(out[1], sections[1], 'the VLAN device is untouched');
  t.same(planNetwork(out, undefined, site), []);
});

t.test("a Gluon node's network is already in its end state", async (t) => {
  const gluon = [
    sec('interface', 'loopback', { ifname: 'lo', proto: 'static', ipaddr: '127.0.0.1', netmask: '255.0.0.0' }),
    sec('interface', 'wan', {
      proto: 'dhcp',
      ifname: 'eth1',
      type: 'bridge',
      igmp_snooping: '1',
      multicast_querier: '0',
      peerdns: '0',
      auto: '1',
    }),
    sec('interface', 'wan6', { proto: 'dhcpv6', ifname: 'br-wan', peerdns: '0', ip6table: '1', sourcefilter: '0', reqprefix: 'no' }),
    sec('rule6', 'wan6_lookup', { mark: '0x01/0x01', lookup: '1' }),
    sec('route6', 'wan6_unreachable', wan6Unreachable),
  ];
  t.same(planNetwork(gluon, undefined, site), []);
});

t.test('duplicates under other names are removed, owned sections are rewritten whole', async (t) => {
  const sections = [
    sec('rule6', 'cfg0a1b2c', { mark: '1/1', lookup: '1' }, true),
    sec('rule6', 'cfg0b1b2c', { mark: '0x1/0x1', lookup: '1', in: 'lan' }, true),
    sec('rule6', 'cfg0c1b2c', { mark: '0x2/0x2', lookup: '1' }, true),
    sec('route6', 'old_unreach', { type: 'unreachable', target: '::/0', table: '1', metric: '65535', interface: 'loopback' }),
    sec('route6', 'other', { type: 'unreachable', target: '::/0', table: '2' }),
    sec('rule', 'wan6_lookup', { mark: '0x01/0x01', lookup: '1', priority: '7' }),
    sec('route6', 'wan6_unreachable', { type: 'unreachable', target: '::/0', table: '1', metric: '1', onlink: '1' }),
  ];
  const out = applyEdits(sections, planNetwork(sections, undefined, site));
  const names = out.map((s) => s.name);
  t.notOk(names.includes('cfg0a1b2c'), 'an anonymous copy of wan6_lookup goes');
  t.ok(names.includes('cfg0b1b2c'), 'a rule with another selector stays');
  t.ok(names.includes('cfg0c1b2c'), 'a rule with another mark stays');
  t.notOk(names.includes('old_unreach'));
  t.ok(names.includes('other'));
  t.equal(findSection(out, 'wan6_lookup')?.type, 'rule6');
  t.same(findSection(out, 'wan6_lookup')?.options, { mark: '0x01/0x01', lookup: '1' });
  t.same(Object.keys(findSection(out, 'wan6_unreachable')?.options ?? {}), ['type', 'target', 'table', 'metric', 'interface', 'gateway']);
  t.same(planNetwork(out, undefined, site), []);
});

t.test("network_gluon-old: the user's WAN settings come back over a regenerated config", async (t) => {
  const regenerated = [
    sec('interface', 'loopback', { device: 'lo', proto: 'static', ipaddr: '127.0.0.1', netmask: '255.0.0.0' }),
    sec('interface', 'wan', { device: 'eth1', proto: 'dhcp' }),
    sec('interface', 'wan6', { device: 'eth1', proto: 'dhcpv6' }),
  ];
  const old = [
    sec('interface', 'wan', staticWan4('198.51.100.2', '198.51.100.1', { ifname: 'eth1', type: 'bridge' })),
    sec('interface', 'wan6', { ifname: 'br-wan', proto: 'static', ip6addr: '2001:db8:1::2/64', ip6gw: '2001:db8:1::1' }),
  ];
  const out = applyEdits(regenerated, planNetwork(regenerated, old, site));
  t.same(findSection(out, 'wan')?.options, staticWan4('198.51.100.2', '198.51.100.1', { device: 'eth1', peerdns: '0' }));
  t.equal(findSection(out, 'wan6')?.options.ip6addr, '2001:db8:1::2/64');
  t.equal(findSection(out, 'wan6')?.options.device, 'eth1');
  t.same(planNetwork(out, old, site), [], 'stable while the old copy is still there');
});
