import t from 'tap';
import { formatPrefix } from '../src/ip.js';
import { parseNetwork, parseTableNames, resolveTable } from '../src/network.js';
import { gluonNetwork } from './lib/fixtures.js';

t.test('a Gluon config: devices, tables, the fwmark rule at pref 1, the unreachable route', async (t) => {
  const config = parseNetwork(gluonNetwork);
  t.same(config.errors, []);
  t.equal(config.interfaces.get('wan')?.device, 'br-wan');
  t.equal(config.interfaces.get('wan6')?.device, 'br-wan');
  t.equal(config.interfaces.get('wan6')?.ip6table, 1);
  t.equal(config.interfaces.get('mesh')?.device, 'bat0');
  const [rule] = config.rules;
  t.match(rule?.rule, { family: 6, priority: 1, action: 'lookup', table: 1, fwmark: 1, fwmask: 1, invert: false, protocol: 0 });
  const [route] = config.routes;
  t.match(route, { family: 6, interface: 'loopback', type: 'unreachable', table: 1, metric: 65535, noDevice: false });
  t.equal(route?.gateway, undefined, 'gateway :: means none');
  t.equal(route && formatPrefix(route.target), '::/0');
});

t.test('netifd numbering: unprioritised rules count per family from 1; disabled ones take no number', async (t) => {
  const config = parseNetwork([
    { type: 'rule6', name: 'a', options: { lookup: '100', disabled: '1' } },
    { type: 'rule6', name: 'b', options: { lookup: '100' } },
    { type: 'rule', name: 'c', options: { lookup: '100', src: '192.0.2.0/24' } },
    { type: 'rule6', name: 'd', options: { action: 'unreachable', dest: '2001:db8::/32', priority: '500', invert: '1' } },
    { type: 'rule6', name: 'e', options: { goto: '9', in: 'lan', out: 'wan' } },
    { type: 'rule6', name: 'f', options: {} },
  ]);
  t.same(
    config.rules.map((r) => [r.section, r.rule.priority, r.rule.action]),
    [
      ['b', 1, 'lookup'],
      ['c', 1, 'lookup'],
      ['d', 500, 'unreachable'],
      ['e', 3, 'goto'],
      ['f', 4, 'nop'],
    ],
  );
  t.match(config.rules[3], { in: 'lan', out: 'wan', rule: { goto: 9, family: 6 } });
  t.match(config.rules[2]?.rule, { invert: true, dst: '2001:db8::', dstLength: 32 });
  t.match(config.rules[1]?.rule, { family: 4, src: '192.0.2.0', srcLength: 24, table: 100 });
});

t.test('bad sections are skipped and reported with section and option', async (t) => {
  const config = parseNetwork(
    [
      { type: 'rule6', name: 'badmark', options: { mark: 'one', lookup: '1' } },
      { type: 'rule6', name: 'badtable', options: { lookup: 'nosuch' } },
      { type: 'rule6', name: 'badsrc', options: { src: '192.0.2.1', lookup: '1' } },
      { type: 'route6', name: 'badtype', options: { type: 'sideways', target: '::/0' } },
      { type: 'route', name: 'badgw', options: { target: '0.0.0.0/0', gateway: '2001:db8::1' } },
      { type: 'route', name: 'badmask', options: { target: '192.0.2.0', netmask: '255.0.255.0' } },
      { type: 'rule', name: 'badtos', options: { tos: '300' } },
      { type: 'rule6', name: 'ok', options: { lookup: 'wan' } },
    ],
    '/etc/config/network',
    parseTableNames('# comment\n1 wan\n'),
  );
  t.same(
    config.errors.map((e) => e.message),
    [
      '/etc/config/network: badmark.mark: expected MARK[/MASK] like 0x1/0x1, got "one"',
      '/etc/config/network: badtable.lookup: unknown routing table "nosuch"',
      '/etc/config/network: badsrc.src: expected an IPv6 address or prefix, got "192.0.2.1"',
      '/etc/config/network: badtype.type: unknown route type "sideways"',
      '/etc/config/network: badgw.gateway: expected an IPv4 address, got "2001:db8::1"',
      '/etc/config/network: badmask.netmask: expected a netmask, got "255.0.255.0"',
      '/etc/config/network: badtos.tos: expected 0..255, got 300',
    ],
  );
  t.equal(config.rules.length, 1);
  t.equal(config.rules[0]?.rule.priority, 4, 'bad IPv6 sections still took their number');
  t.equal(config.rules[0]?.rule.table, 1);
});

t.test('selectors netlink cannot send are refused with the section and option', async (t) => {
  const config = parseNetwork([
    { type: 'rule6', name: 'uid', options: { lookup: '1', uidrange: '1000-2000' } },
    { type: 'rule', name: 'proto', options: { lookup: '1', ipproto: 'udp', sport: '53' } },
    { type: 'rule6', name: 'ok', options: { lookup: '1', src: '2001:DB8::5/64' } },
  ]);
  t.same(
    config.errors.map((e) => e.message),
    [
      '/etc/config/network: uid.uidrange: not supported: @meshwan/netlink cannot send this selector, so the rule cannot be made',
      '/etc/config/network: proto.ipproto: not supported: @meshwan/netlink cannot send this selector, so the rule cannot be made',
    ],
  );
  t.match(config.rules[0], { section: 'ok', rule: { priority: 2, src: '2001:db8::5', srcLength: 64 } }, 'canonical text, host bits kept');
});

t.test('numbers and tables like strtoul(…, 0) and system_resolve_rt_table', async (t) => {
  t.equal(resolveTable('0x10', new Map()), 16);
  t.equal(resolveTable('010', new Map()), 8, 'octal, as strtoul(…, 0)');
  t.equal(resolveTable('10', new Map()), 10);
  t.equal(resolveTable('1x', new Map()), undefined);
  t.equal(resolveTable('main', new Map()), 254);
  t.equal(resolveTable('local', new Map()), 255);
  t.equal(resolveTable('default', new Map()), 253);
  t.equal(resolveTable('0', new Map()), undefined);
  const config = parseNetwork([
    { type: 'interface', name: 'a', options: { device: 'eth1', ip6table: 'main', ip4table: '2', metric: '5' } },
    { type: 'interface', name: 'b', options: { ifname: '@a' } },
    { type: 'interface', name: 'c', options: { ifname: '@c' } },
    {
      type: 'route',
      name: 'r',
      options: { interface: 'a', target: '198.51.100.7', netmask: '255.255.255.0', table: 'main', proto: 'kernel' },
    },
  ]);
  t.equal(config.interfaces.get('a')?.ip6table, undefined);
  t.equal(config.interfaces.get('a')?.ip4table, 2);
  t.equal(config.interfaces.get('b')?.device, 'eth1');
  t.equal(config.interfaces.get('c')?.device, undefined, 'an alias loop resolves to nothing');
  const r = config.routes[0];
  t.equal(r && formatPrefix(r.target), '198.51.100.0/24');
  t.equal(r?.table, undefined);
  t.equal(r?.proto, 2);
});
