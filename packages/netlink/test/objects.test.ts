// tier: root: network namespaces, SO_MARK or firewall rules
import t from 'tap';
import { waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { Monitor, type MonitorEvent, NetlinkError, RequestError } from '../src/index.js';
import { fixture, missingPart } from './helpers.js';

interface IpRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  table?: string;
  metric?: number;
  protocol?: string;
  nexthops?: { gateway: string; dev: string; weight: number }[];
}
interface IpRule {
  priority: number;
  table?: string;
  fwmark?: string;
  fwmask?: string;
  src?: string;
  srclen?: number;
  dst?: string;
  iif?: string;
  oif?: string;
  action?: string;
  target?: number;
  not?: null;
  suppress_prefixlen?: number;
}

requireParts(missingPart);

t.test('links: index, name, admin state, carrier, operstate, mtu, address match ip link', async (t) => {
  const { ns, nl } = fixture(t, 'link');
  const ipLinks =
    ns.ipJson<{ ifindex: number; ifname: string; mtu: number; address: string; operstate: string; flags: string[] }[]>('link');
  const links = nl.listLinks();
  t.equal(links.length, ipLinks.length);
  for (const il of ipLinks) {
    const l = links.find((x) => x.index === il.ifindex);
    t.ok(l, il.ifname);
    if (!l) continue;
    t.equal(l.name, il.ifname);
    t.equal(l.mtu, il.mtu);
    t.equal(l.address, il.address);
    t.equal(l.operstate, il.operstate.toLowerCase());
    t.equal(l.adminUp, il.flags.includes('UP'));
  }
  ns.ip('link', 'set', 'vb', 'down');
  const va = nl.getLink('va');
  t.equal(va.adminUp, true, 'va still administratively up');
  t.equal(va.carrier, false, 'but its peer is down: no carrier');
  t.equal(va.operstate, 'lowerlayerdown');
  t.equal(nl.getLink(va.index).name, 'va');
  t.throws(() => nl.getLink('nosuchdev'), { code: 'ENODEV', op: 'getLink' });
});

t.test('addresses: add, dump, replace, delete; flags and lifetimes', async (t) => {
  const { ns, nl } = fixture(t, 'addr');
  nl.addAddress({ dev: 'va', address: '2001:db8:1::5/64', nodad: true, validLifetimeSeconds: 600, preferredLifetimeSeconds: 0 });
  nl.addAddress({ dev: 'vb', address: '198.51.100.7/24', label: 'vb:x' });
  nl.addAddress({ dev: 'vb', address: 'fd00::9/64' }); // with DAD: tentative at first
  const witness =
    ns.ipJson<{ ifname: string; addr_info: { local: string; prefixlen: number; deprecated?: boolean; nodad?: boolean }[] }[]>('addr');
  const mine = nl.listAddresses();
  for (const w of witness)
    for (const ai of w.addr_info)
      t.ok(
        mine.find((a) => a.address === ai.local && a.prefixLength === ai.prefixlen),
        `${ai.local} dumped`,
      );
  const a = mine.find((x) => x.address === '2001:db8:1::5');
  t.same(a?.flagNames.sort(), ['deprecated', 'nodad'], 'preferred lifetime 0 makes it deprecated');
  t.ok((a?.validLifetimeSeconds ?? 0) <= 600 && (a?.validLifetimeSeconds ?? 0) > 500);
  t.ok(
    nl
      .listAddresses(6)
      .find((x) => x.address === 'fd00::9')
      ?.flagNames.includes('tentative'),
  );
  t.equal(nl.listAddresses(4).find((x) => x.address === '198.51.100.7')?.label, 'vb:x');
  t.ok(nl.listAddresses(4).every((x) => x.family === 4));
  t.throws(() => nl.addAddress({ dev: 'va', address: '2001:db8:1::5/64', nodad: true }), { code: 'EEXIST', op: 'addAddress' });
  nl.replaceAddress({ dev: 'va', address: '2001:db8:1::5/64', nodad: true });
  t.equal(nl.listAddresses(6).find((x) => x.address === '2001:db8:1::5')?.validLifetimeSeconds, 0xffffffff, 'replace resets lifetimes');
  nl.deleteAddress({ dev: 'va', address: '2001:db8:1::5/64' });
  nl.deleteAddress({ dev: 'vb', address: '198.51.100.7/24' });
  t.notOk(ns.ip('addr').includes('2001:db8:1::5'));
  t.notOk(ns.ip('addr').includes('198.51.100.7'));
  t.throws(() => nl.deleteAddress({ dev: 'va', address: '2001:db8:1::5/64' }), { code: 'EADDRNOTAVAIL' });
  t.throws(() => nl.addAddress({ dev: 'va', address: '2001:db8::zz/64' }), RequestError);
});

t.test('routes: every type, tables above 255, metric, gateway, src, protocol, multipath', async (t) => {
  const { ns, nl } = fixture(t, 'route');
  nl.addRoute({ dst: '2001:db8:1::/48', gateway: '2001:db8::2', table: 1000, metric: 5, protocol: 'static' });
  nl.addRoute({ dst: 'default', family: 6, type: 'unreachable', table: 1, metric: 65535 });
  nl.addRoute({ dst: '2001:db8:2::/48', type: 'prohibit', table: 1 });
  nl.addRoute({ dst: '2001:db8:3::/48', type: 'blackhole', table: 1 });
  nl.addRoute({ dst: '2001:db8:4::/48', type: 'throw', table: 1 });
  nl.addRoute({ dst: '198.51.100.0/24', dev: 'va', table: 300, prefsrc: '192.0.2.1' });
  nl.addRoute({ dst: '203.0.113.0/24', gateway: '192.0.2.2', metric: 7 });
  nl.addRoute({ dst: '203.0.113.128/25', type: 'unreachable' });
  nl.addRoute({
    dst: '2001:db8:5::/48',
    nexthops: [
      { gateway: '2001:db8::2', dev: 'va', weight: 3 },
      { gateway: '2001:db8::3', dev: 'va' },
    ],
  });
  nl.addRoute({ dst: '2001:db8:6::/48', from: '2001:db8::/64', dev: 'va' });
  const routes = nl.listRoutes();
  const witness6 = ns.ipJson<IpRoute[]>('-6', 'route', 'show', 'table', 'all');
  const witness4 = ns.ipJson<IpRoute[]>('-4', 'route', 'show', 'table', 'all');
  t.equal(routes.length, witness6.length + witness4.length, 'one route per ip route line');
  const find = (dst: string, table: number) => routes.find((r) => `${r.dst}/${r.dstLength}` === dst && r.table === table);
  t.match(find('2001:db8:1::/48', 1000), { gateway: '2001:db8::2', metric: 5, protocol: 4, type: 'unicast', family: 6 });
  t.match(find('::/0', 1), { type: 'unreachable', metric: 65535 });
  t.match(find('2001:db8:2::/48', 1), { type: 'prohibit' });
  t.match(find('2001:db8:3::/48', 1), { type: 'blackhole' });
  t.match(find('2001:db8:4::/48', 1), { type: 'throw' });
  t.match(find('198.51.100.0/24', 300), { prefsrc: '192.0.2.1', scope: 253, oif: nl.ifindex('va') });
  t.match(find('203.0.113.0/24', 254), { gateway: '192.0.2.2', metric: 7 });
  t.match(find('203.0.113.128/25', 254), { type: 'unreachable' });
  t.match(find('2001:db8:6::/48', 254), { src: '2001:db8::', srcLength: 64 });
  t.same(
    find('2001:db8:5::/48', 254)?.nexthops?.map((n) => [n.gateway, n.weight]),
    [
      ['2001:db8::2', 3],
      ['2001:db8::3', 1],
    ],
  );
  t.same(
    nl.listRoutes({ table: 1 }).map((r) => r.type),
    witness6.filter((r) => r.table === '1').map((r) => r.type ?? 'unicast'),
  );
  t.same(nl.listRoutes({ table: 4242 }), [], 'a table that was never created is empty');
  t.ok(nl.listRoutes({ family: 4 }).every((r) => r.family === 4));

  const err = t.throws(() => nl.addRoute({ dst: '2001:db8:1::/48', gateway: '2001:db8::2', table: 1000, metric: 5 }));
  t.ok(err instanceof NetlinkError);
  t.match(err, { errno: 17, code: 'EEXIST', op: 'addRoute', request: '2001:db8:1::/48 via 2001:db8::2 table 1000 metric 5 (inet6)' });
  nl.replaceRoute({ dst: '2001:db8:1::/48', gateway: '2001:db8::3', table: 1000, metric: 5 });
  t.equal(find('2001:db8:1::/48', 1000) && nl.listRoutes({ table: 1000 })[0]?.gateway, '2001:db8::3', 'replaced in place');

  for (const [dst, table] of [
    ['2001:db8:1::/48', 1000],
    ['default', 1],
    ['2001:db8:2::/48', 1],
    ['198.51.100.0/24', 300],
    ['203.0.113.128/25', 254],
  ] as const)
    nl.deleteRoute({ dst, table, family: dst === 'default' ? 6 : undefined });
  t.same(ns.ipJson<IpRoute[]>('-6', 'route', 'show', 'table', '1000'), []);
  t.notOk(ns.ip('-6', 'route', 'show', 'table', '1').includes('unreachable default'));
  t.throws(() => nl.deleteRoute({ dst: '2001:db8:1::/48', table: 1000 }), { code: 'ESRCH', op: 'deleteRoute' });
  t.throws(() => nl.addRoute({ dst: '2001:db8::/129' }), RequestError);
  t.throws(() => nl.addRoute({ dst: 'default' }), RequestError);
  t.throws(() => nl.addRoute({ dst: '2001:db8:9::/48', gateway: '192.0.2.1' }), RequestError);
  t.throws(() => nl.addRoute({ dst: '2001:db8:9::/48', dev: 'nosuch' }), { code: 'ENODEV' });
});

t.test('routes: an IPv6 route sent with an expiry reads it back, is refreshed by prepend, and the kernel deletes it', async (t) => {
  const { ns, nl, netnsPath } = fixture(t, 'expire');
  // expired routes are collected by the fib6 gc timer (every gc_interval, 30 s by default): 1 s in this namespace
  ns.sysctl('net.ipv6.route.gc_interval', '1');
  const monitor = Monitor.start({ netns: netnsPath });
  t.teardown(() => monitor.close());
  const events: MonitorEvent[] = [];
  monitor.on((e) => events.push(e));
  await monitor.ready;
  nl.addRoute({ dst: '2001:db8:7::/48', gateway: '2001:db8::2', table: 1, expiresSeconds: 600 });
  nl.addRoute({ dst: '2001:db8:8::/48', gateway: '2001:db8::2', table: 1, expiresSeconds: 3 });
  const witness = ns.ipJson<(IpRoute & { expires?: number })[]>('-6', 'route', 'show', 'table', '1');
  const long = nl.listRoutes({ table: 1 }).find((r) => r.dst === '2001:db8:7::');
  t.ok(long?.expiresSeconds !== undefined && long.expiresSeconds > 590 && long.expiresSeconds <= 600, `expires ${long?.expiresSeconds}`);
  t.ok((witness.find((r) => r.dst === '2001:db8:7::/48')?.expires ?? 0) > 590, 'ip route shows the same expiry');
  t.equal(nl.listRoutes({ table: 254 }).find((r) => r.dst === '2001:db8::')?.expiresSeconds, undefined, 'a kernel route has none');

  // `ip route prepend` of the same nexthop sets a new expiry in place; the kernel answers EEXIST
  t.throws(() => nl.prependRoute({ dst: '2001:db8:7::/48', gateway: '2001:db8::2', table: 1, expiresSeconds: 3000 }), {
    code: 'EEXIST',
    op: 'prependRoute',
    request: '2001:db8:7::/48 via 2001:db8::2 table 1 expires 3000 (inet6)',
  });
  const refreshed = nl.listRoutes({ table: 1 }).filter((r) => r.dst === '2001:db8:7::');
  t.equal(refreshed.length, 1, 'still one route');
  t.ok((refreshed[0]?.expiresSeconds ?? 0) > 2900, `refreshed to ${refreshed[0]?.expiresSeconds}`);

  await waitFor(
    'RTM_DELROUTE of the expired route',
    () => events.some((e) => e.type === 'del' && e.kind === 'route' && e.route.dst === '2001:db8:8::' && e.route.table === 1),
    120_000,
  );
  t.notOk(
    ns.ipJson<IpRoute[]>('-6', 'route', 'show', 'table', '1').some((r) => r.dst === '2001:db8:8::/48'),
    'ip route no longer shows it',
  );
  t.ok(
    nl.listRoutes({ table: 1 }).some((r) => r.dst === '2001:db8:7::'),
    'the refreshed one stays',
  );
  t.throws(() => nl.addRoute({ dst: '198.51.100.0/24', dev: 'va', expiresSeconds: 5 }), {
    name: 'RequestError',
    field: 'expiresSeconds',
  });
});

t.test('rules: priority, fwmark/mask, from/to, iif/oif, actions, goto, suppress_prefixlength, invert', async (t) => {
  const { ns, nl } = fixture(t, 'rule');
  nl.addRule({ family: 6, priority: 100, fwmark: 0x1, fwmask: 0x1, table: 1 });
  nl.addRule({ family: 6, priority: 101, from: '2001:db8::/32', to: 'fd00::/8', iif: 'lo', oif: 'va', action: 'prohibit' });
  nl.addRule({ family: 6, priority: 102, goto: 32766 });
  nl.addRule({ family: 6, priority: 103, table: 254, suppressPrefixLength: 0, invert: true, to: '2001:db8::/32' });
  nl.addRule({ family: 6, priority: 104, table: 100000 });
  nl.addRule({ family: 4, priority: 105, fwmark: 0x4, action: 'unreachable' });
  nl.addRule({ family: 4, priority: 106, action: 'blackhole' });
  const w6 = ns.ipJson<IpRule[]>('-6', 'rule');
  const rules = nl.listRules(6);
  t.same(
    rules.map((r) => r.priority),
    w6.map((r) => r.priority),
  );
  t.match(rules[1], { priority: 100, fwmark: 1, fwmask: 1, table: 1, action: 'lookup' });
  t.match(rules[2], { src: '2001:db8::', srcLength: 32, dst: 'fd00::', dstLength: 8, iif: 'lo', oif: 'va', action: 'prohibit' });
  t.match(rules[3], { action: 'goto', goto: 32766 });
  t.match(rules[4], { invert: true, suppressPrefixLength: 0, table: 254 });
  t.match(rules[5], { table: 100000 });
  const r4 = nl.listRules(4);
  t.match(
    r4.find((r) => r.priority === 105),
    { fwmark: 4, fwmask: 0xffffffff, action: 'unreachable' },
  );
  t.match(
    r4.find((r) => r.priority === 106),
    { action: 'blackhole' },
  );
  t.equal(nl.listRules().length, rules.length + r4.length);
  t.throws(() => nl.addRule({ family: 6, priority: 100, fwmark: 0x1, fwmask: 0x1, table: 1 }), {
    code: 'EEXIST',
    op: 'addRule',
    message: 'netlink: addRule priority 100 fwmark 0x1/0x1 table 1 (inet6): EEXIST',
  });
  nl.replaceRule({ family: 6, priority: 100, fwmark: 0x2, fwmask: 0x2, table: 2 });
  t.match(
    nl.listRules(6).find((r) => r.priority === 100),
    { fwmark: 2, table: 2 },
  );
  nl.replaceRule({ family: 6, priority: 150, table: 3 });
  for (const priority of [100, 101, 102, 103, 104, 150]) nl.deleteRule({ family: 6, priority });
  nl.deleteRule({ family: 4, fwmark: 0x4, action: 'unreachable' });
  nl.deleteRule({ family: 4, priority: 106 });
  t.same(
    ns.ipJson<IpRule[]>('-6', 'rule').map((r) => r.priority),
    [0, 32766],
  );
  t.same(
    ns.ipJson<IpRule[]>('-4', 'rule').map((r) => r.priority),
    [0, 32766, 32767],
  );
  t.throws(() => nl.deleteRule({ family: 6, priority: 100 }), { code: 'ENOENT', op: 'deleteRule' });
});

t.test('getRoute asks the kernel; reject answers are typed errors', async (t) => {
  const { nl } = fixture(t, 'get');
  nl.addRoute({ dst: '2001:db8:1::/48', gateway: '2001:db8::2', table: 1000 });
  nl.addRule({ family: 6, priority: 100, fwmark: 1, fwmask: 1, table: 1000 });
  nl.addRoute({ dst: '203.0.113.0/24', type: 'prohibit' });
  t.match(nl.getRoute({ dst: '2001:db8:1::1', mark: 1 }), { table: 1000, gateway: '2001:db8::2' });
  t.match(nl.getRoute({ dst: '192.0.2.9' }), { table: 254, oif: nl.ifindex('va'), prefsrc: '192.0.2.1' });
  t.throws(() => nl.getRoute({ dst: '2001:db8:1::1' }), { code: 'ENETUNREACH', op: 'getRoute' });
  t.throws(() => nl.getRoute({ dst: '203.0.113.1' }), { code: 'EACCES' });
  t.match(nl.getRoute({ dst: '192.0.2.9', oif: 'va', from: '192.0.2.1' }), { table: 254 });
});
