import type { Rule } from '@meshwan/netlink';
import t from 'tap';
import { deriveDesired, GATE_PRIORITY } from '../src/desired.js';
import { type Prefix, parsePrefix } from '../src/ip.js';
import { formatRoute, formatRule, newRule, type Route, RTPROT_MESHWAN, RTPROT_STATIC, RTPROT_UNSPEC } from '../src/model.js';
import { parseNetwork } from '../src/network.js';
import { ownsRule, planChanges } from '../src/plan.js';
import type { Address, Link } from '../src/state.js';
import { gluonNetwork, raDefault, split } from './lib/fixtures.js';

const links: Link[] = [
  { name: 'lo', ifindex: 1, up: true },
  { name: 'br-wan', ifindex: 5, up: true },
  { name: 'bat0', ifindex: 7, up: true },
];
function addr(dev: string, text: string): Address {
  const p = parsePrefix(text) as Prefix;
  return { dev, family: p.family, address: text.split('/')[0] ?? '', len: p.len };
}
function prefix(text: string): Prefix {
  return parsePrefix(text) as Prefix;
}
const addresses = [addr('br-wan', '2001:db8:1::5/64'), addr('br-wan', 'fe80::5/64'), addr('br-wan', '192.0.2.5/24')];
const wanDefault = raDefault({ expiresSeconds: 1800 });
const meshDefault = raDefault({ dev: 'bat0', gateway: 'fe80::99', metric: 512, protocol: 4 });
const wanV4: Route = {
  family: 4,
  table: 254,
  dst: prefix('0.0.0.0/0'),
  type: 'unicast',
  dev: 'br-wan',
  gateway: '192.0.2.1',
  metric: 0,
  protocol: 16,
};

t.test('a Gluon node: netifd rules, the gate, the unreachable route, WAN routes moved to table 1', async (t) => {
  const config = parseNetwork(gluonNetwork);
  const desired = deriveDesired(config, split, { links, addresses, routes: [wanDefault, meshDefault, wanV4] });
  t.same(
    desired.rules.map(formatRule).sort(),
    [
      '1: from all fwmark 0x1/0x1 lookup 1',
      `${GATE_PRIORITY}: not from all fwmark 0x1/0x1 lookup main proto meshwan`,
      `${GATE_PRIORITY + 1}: not from all fwmark 0x1/0x1 unreachable proto meshwan`,
      `${GATE_PRIORITY + 2}: from all fwmark 0x1/0x1 unreachable proto meshwan`,
      '10000: from 2001:db8:1::5 lookup 1',
      '20000: from all to 2001:db8:1::5/64 lookup 1',
    ].sort(),
  );
  t.same(desired.routes.map(formatRoute), [
    'unreachable default table 1 proto static metric 65535',
    '2001:db8:1::/64 dev br-wan table 1 proto static metric 1024',
    'default via fe80::1 dev br-wan table 1 proto ra metric 1024',
  ]);
  t.equal(desired.routes[2]?.expiresSeconds, 1800, 'a moved RA route carries its lifetime in the model (not sent yet: README)');
  t.same(desired.unwantedRoutes, [wanDefault], 'IPv4 stays in main without ip4table');
  t.same(desired.gatedFamilies, [6]);
});

t.test('ip4table gates IPv4 too and moves the WAN IPv4 routes', async (t) => {
  const config = parseNetwork([
    ...gluonNetwork.map((s) => (s.name === 'wan' ? { ...s, options: { ...s.options, ip4table: '1' } } : s)),
    { type: 'rule', name: 'wan_lookup', options: { mark: '0x1/0x1', lookup: '1' } },
    {
      type: 'route',
      name: 'wan_unreachable',
      options: { type: 'unreachable', interface: 'loopback', target: '0.0.0.0/0', table: '1', metric: '65535' },
    },
  ]);
  const desired = deriveDesired(config, split, { links, addresses, routes: [wanV4] });
  t.same(desired.gatedFamilies, [6, 4]);
  const v4 = desired.rules.filter((r) => r.family === 4).map(formatRule);
  t.ok(v4.includes('1: from all fwmark 0x1/0x1 lookup 1'));
  t.ok(v4.includes('10000: from 192.0.2.5 lookup 1'));
  t.ok(v4.includes('20000: from all to 192.0.2.5/24 lookup 1'));
  t.ok(v4.includes('90005: from all iif lo lookup 1'), 'the IPv4 iif lo rule needs no device option');
  t.ok(v4.includes(`${GATE_PRIORITY + 1}: not from all fwmark 0x1/0x1 unreachable proto meshwan`));
  t.same(desired.unwantedRoutes, [wanV4]);
  t.ok(desired.routes.some((r) => r.family === 4 && r.table === 1 && r.type === 'unreachable' && r.metric === 65535));
});

t.test('WAN down: no address rules, no moves, but the gate and table-1 routes stay', async (t) => {
  const config = parseNetwork(gluonNetwork);
  const down = links.map((l) => (l.name === 'br-wan' ? { ...l, up: false } : l));
  const desired = deriveDesired(config, split, { links: down, addresses, routes: [wanDefault] });
  t.notOk(desired.rules.some((r) => r.priority === 10000 || r.priority === 90005));
  t.ok(desired.rules.some((r) => r.priority === GATE_PRIORITY + 1));
  t.same(desired.unwantedRoutes, []);
  t.equal(desired.routes.length, 1);
});

t.test('interface-bound rules exist only while their interface is up; route details follow netifd', async (t) => {
  const config = parseNetwork([
    ...gluonNetwork,
    { type: 'interface', name: 'lan', options: { device: 'br-lan', metric: '7' } },
    { type: 'rule6', name: 'fromlan', options: { in: 'lan', lookup: '100' } },
    { type: 'rule6', name: 'tomesh', options: { out: 'mesh', lookup: '100' } },
    { type: 'route6', name: 'lanroute', options: { interface: 'lan', target: '2001:db8:9::/48', source: '2001:db8:1::/64', mtu: '1280' } },
    { type: 'route6', name: 'meshroute', options: { interface: 'mesh', target: '2001:db8:8::/48', gateway: 'fe80::2' } },
    { type: 'route6', name: 'nodev', options: { target: '2001:db8:7::/48', table: '1', type: 'blackhole' } },
    { type: 'route6', name: 'ghost', options: { interface: 'nosuch', target: '2001:db8:6::/48' } },
  ]);
  const desired = deriveDesired(config, split, { links, addresses: [], routes: [] });
  t.notOk(
    desired.rules.some((r) => r.table === 100 && r.iif !== undefined),
    'br-lan does not exist',
  );
  t.ok(desired.rules.some((r) => r.table === 100 && r.oif === 'bat0'));
  t.same(
    desired.routes.map(formatRoute).sort(),
    [
      '2001:db8:8::/48 via fe80::2 dev bat0 table main proto static metric 1024',
      'blackhole 2001:db8:7::/48 table 1 proto static metric 1024',
      'unreachable default table 1 proto static metric 65535',
    ].sort(),
  );
});

t.test('plan: adds what is missing, deletes only what meshwan owns, make-before-break order', async (t) => {
  const config = parseNetwork(gluonNetwork);
  const observed = { links, addresses, routes: [wanDefault, meshDefault] };
  const desired = deriveDesired(config, split, observed);
  const foreign = newRule({ family: 6, priority: 500, action: 'lookup', table: 100, protocol: RTPROT_STATIC });
  const staleAddr = newRule({
    family: 6,
    priority: 10000,
    action: 'lookup',
    table: 1,
    protocol: RTPROT_STATIC,
    src: '2001:db8:1::99',
    srcLength: 128,
  });
  const oldGate = newRule({
    family: 6,
    priority: 8000,
    action: 'unreachable',
    invert: true,
    fwmark: 1,
    fwmask: 1,
    protocol: RTPROT_MESHWAN,
  });
  const first = planChanges(desired, [foreign, staleAddr, oldGate], observed.routes);
  const ops = first.steps.map((s) => s.op);
  t.ok(ops.lastIndexOf('addRule') < ops.indexOf('deleteRoute'), 'adds first');
  t.ok(ops.lastIndexOf('addRoute') < ops.indexOf('deleteRoute'));
  t.same(
    first.steps.filter((s) => s.op === 'deleteRule').map((s) => (s.op === 'deleteRule' ? formatRule(s.rule) : '')),
    ['10000: from 2001:db8:1::99 lookup 1 proto static', '8000: not from all fwmark 0x1/0x1 unreachable proto meshwan'],
  );
  t.same(
    first.steps.filter((s) => s.op === 'deleteRoute').map((s) => (s.op === 'deleteRoute' ? formatRoute(s.route) : '')),
    ['default via fe80::1 dev br-wan table main proto ra metric 1024'],
  );
  t.notOk(ownsRule(foreign, desired.ownedTables));

  // Applying the plan yields a state for which the plan is empty: apply twice = no change.
  const rules = [foreign, ...desired.rules];
  const routes = [meshDefault, ...desired.routes];
  const again = deriveDesired(config, split, { links, addresses, routes });
  t.same(planChanges(again, rules, routes).steps, []);
  // A duplicate of an owned rule is surplus.
  const dup = planChanges(again, [...rules, desired.rules[0] as Rule], routes);
  t.same(
    dup.steps.map((s) => s.op),
    ['deleteRule'],
  );
});

t.test("config device option ipv6 '1': netifd's IPv6 iif lo and failed_policy rules, proto unspec", async (t) => {
  const without = deriveDesired(parseNetwork(gluonNetwork), split, { links, addresses, routes: [] });
  t.notOk(
    without.rules.some((r) => r.family === 6 && (r.iif !== undefined || r.action === 'failed_policy')),
    'without the option: neither',
  );
  const config = parseNetwork([
    ...gluonNetwork,
    { type: 'device', name: 'brwan', options: { name: 'br-wan', ipv6: '1' } },
    { type: 'device', name: 'mesh', options: { name: 'bat0', ipv6: '1' } },
    { type: 'device', name: 'mesh_off', options: { name: 'bat0', ipv6: '0' } },
  ]);
  t.same([...config.ipv6Devices], ['br-wan'], 'a later section for the same device overrides an earlier one');
  const desired = deriveDesired(config, split, { links, addresses, routes: [] });
  const v6 = desired.rules.filter((r) => r.family === 6 && r.priority > 30000).map(formatRule);
  t.same(v6.sort(), ['4200000005: from all iif br-wan failed_policy', '90005: from all iif lo lookup 1']);
  for (const r of desired.rules.filter((r) => r.protocol !== RTPROT_MESHWAN)) t.equal(r.protocol, RTPROT_UNSPEC, formatRule(r));
});

t.test('link-local: fe80::/64 of the WAN stays in main, as netifd leaves it', async (t) => {
  const linkLocal: Route = { family: 6, table: 254, dst: prefix('fe80::/64'), type: 'unicast', dev: 'br-wan', metric: 256, protocol: 2 };
  const prefixRoute: Route = { ...linkLocal, dst: prefix('2001:db8:1::/64') };
  const desired = deriveDesired(parseNetwork(gluonNetwork), split, { links, addresses, routes: [linkLocal, prefixRoute] });
  t.same(desired.unwantedRoutes, [prefixRoute]);
});

t.test('beside netifd: only the gate; none of its rules owned, no recorded config route deleted', async (t) => {
  const config = parseNetwork(gluonNetwork);
  const alone = deriveDesired(config, split, { links, addresses, routes: [wanDefault] });
  const beside = deriveDesired(config, split, { links, addresses, routes: [wanDefault], netifd: true });
  t.equal(beside.netifd, true);
  t.ok(
    beside.rules.every((r) => r.protocol === RTPROT_MESHWAN),
    'the gate only',
  );
  t.same(beside.configRoutes, []);
  t.same(beside.unwantedRoutes, [wanDefault], 'the WAN routes the kernel put in main still move');
  const netifds = alone.rules.filter((r) => r.protocol === RTPROT_UNSPEC);
  t.ok(netifds.length > 0);
  for (const r of netifds) {
    t.ok(ownsRule(r, alone.ownedTables), `alone, meshwan owns ${formatRule(r)}`);
    t.notOk(ownsRule(r, beside.ownedTables, true), `beside netifd, ${formatRule(r)} is netifd's`);
  }
  const failed = newRule({ family: 6, priority: 4200000005, action: 'failed_policy', iif: 'br-wan', protocol: RTPROT_UNSPEC });
  t.ok(ownsRule(failed, alone.ownedTables));
  t.notOk(ownsRule({ ...failed, priority: 30000 }, alone.ownedTables), 'a failed_policy rule of another shape is not');
  const legacy: Rule = { ...(netifds[0] as Rule), protocol: RTPROT_STATIC };
  t.ok(ownsRule(legacy, beside.ownedTables, true), "an older meshwan's proto static copy is deleted beside netifd too");
  const floor = alone.configRoutes[0] as Route;
  const rules = [...beside.rules, ...netifds];
  const plan = planChanges(beside, rules, [floor], [floor]);
  t.same(
    plan.steps.filter((s) => s.op !== 'addRoute'),
    [],
    'nothing of netifd deleted',
  );
  t.same(
    planChanges(alone, [...alone.rules, legacy], [floor], [floor])
      .steps.filter((s) => s.op !== 'addRoute')
      .map((s) => s.op),
    ['deleteRule'],
    'alone: the legacy duplicate goes',
  );
});
