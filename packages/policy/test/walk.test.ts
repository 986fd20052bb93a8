import t from 'tap';
import { deriveDesired } from '../src/desired.js';
import { routingFindings } from '../src/findings.js';
import { type Prefix, parseAddress, parsePrefix } from '../src/ip.js';
import { type Route, RTPROT_MESHWAN, RTPROT_STATIC, type Rule } from '../src/model.js';
import { parseNetwork } from '../src/network.js';
import type { Address, KernelState, Link } from '../src/state.js';
import { lookupTable, ruleMatches, walk, walkOutput } from '../src/walk.js';
import { gluonNetwork, split } from './lib/fixtures.js';

const a = (text: string) => parseAddress(text)?.addr ?? -1n;
const p = (text: string) => parsePrefix(text) as Prefix;
const base = { invert: false, protocol: RTPROT_STATIC } as const;
const kernelDefaults: Rule[] = [
  { ...base, family: 6, priority: 0, action: 'lookup', table: 255 },
  { ...base, family: 6, priority: 32766, action: 'lookup', table: 254 },
];
const links: Link[] = [
  { name: 'lo', ifindex: 1, up: true },
  { name: 'br-wan', ifindex: 5, up: true },
  { name: 'bat0', ifindex: 7, up: true },
];
const addresses: Address[] = [{ dev: 'br-wan', family: 6, addr: a('2001:db8:1::5'), len: 64 }];
const wanRoutes: Route[] = [
  { family: 6, table: 1, dst: p('::/0'), type: 'unicast', dev: 'br-wan', gateway: 'fe80::1', metric: 1024, protocol: 9 },
  { family: 6, table: 1, dst: p('2001:db8:1::/64'), type: 'unicast', dev: 'br-wan', metric: 256, protocol: 2 },
  { family: 6, table: 1, dst: p('fe80::/64'), type: 'unicast', dev: 'br-wan', metric: 256, protocol: 2 },
];
const unreachable: Route = { family: 6, table: 1, dst: p('::/0'), type: 'unreachable', metric: 65535, protocol: 4 };
const ctx = { split, families: [6] as const, wanTables: new Set([1]), wanDevices: ['br-wan'] };

/** With br-wan's `option ipv6 '1'`: netifd's IPv6 `iif lo lookup 1` (90000+ifindex) and failed_policy exist. */
const ipv6Network = [...gluonNetwork, { type: 'device', name: 'brwan', options: { name: 'br-wan', ipv6: '1' } }];

/** The kernel as netifd alone leaves it on a Gluon node whose mesh has no route (main empty). */
function netifdOnly(): KernelState {
  const desired = deriveDesired(parseNetwork(ipv6Network), split, { links, addresses, routes: [] });
  return {
    links,
    addresses,
    rules: [...kernelDefaults, ...desired.rules.filter((r) => r.protocol !== RTPROT_MESHWAN)],
    routes: [...wanRoutes, unreachable],
  };
}
function withGate(): KernelState {
  const desired = deriveDesired(parseNetwork(ipv6Network), split, { links, addresses, routes: [] });
  return { links, addresses, rules: [...kernelDefaults, ...desired.rules], routes: [...wanRoutes, unreachable] };
}

t.test('#520: with netifd rules alone an unmarked packet from the WAN address reaches table 1', async (t) => {
  const state = netifdOnly();
  const dst = a('2001:db8:ffff::1');
  // Main is empty, so netifd's `iif lo lookup 1` (pref 90000+ifindex) already hands the packet to table 1.
  const first = walkOutput(state.rules, state.routes, { family: 6, dst, mark: 0, iif: 'lo' }, [a('2001:db8:1::5')]);
  t.match(first[0]?.outcome, { kind: 'route', rule: { priority: 90005 }, route: { table: 1 } });
  // Without that rule, the kernel's retry with the source it picked matches `from WANADDR lookup 1` (pref 10000).
  const noLo = state.rules.filter((r) => r.priority !== 90005);
  const results = walkOutput(noLo, state.routes, { family: 6, dst, mark: 0, iif: 'lo' }, [a('2001:db8:1::5')]);
  t.equal(results[0]?.outcome.kind, 'none', 'first lookup without a source fails');
  t.match(results[1]?.outcome, { kind: 'route', rule: { priority: 10000 }, route: { table: 1 } });
  const codes = routingFindings(state, ctx).map((f) => f.code);
  t.ok(codes.includes('unmarked-reaches-wan-table'));
});

t.test('with the gate: unmarked packets never reach table 1, marked ones always use it', async (t) => {
  const state = withGate();
  t.same(routingFindings(state, ctx), []);
  const unmarked = walkOutput(state.rules, state.routes, { family: 6, dst: a('2001:db8:ffff::1'), mark: 0, iif: 'lo' }, [
    a('2001:db8:1::5'),
  ]);
  for (const r of unmarked) t.equal(r.outcome.kind, 'reject');
  const marked = walk(state.rules, state.routes, { family: 6, dst: a('2001:db8:ffff::1'), mark: 1, iif: 'lo' });
  t.match(marked.outcome, { kind: 'route', route: { table: 1, dev: 'br-wan' } });
  // Marked to a link-local DNS server on the WAN (RA RDNSS): found in table 1 because fe80::/64 moved there.
  const ll = walk(state.rules, state.routes, { family: 6, dst: a('fe80::1'), mark: 1, iif: 'lo', oif: 'br-wan' });
  t.match(ll.outcome, { kind: 'route', route: { table: 1, dst: { len: 64 } } });
  // Mesh route in main: unmarked traffic uses it.
  const mesh: Route = { family: 6, table: 254, dst: p('::/0'), type: 'unicast', dev: 'bat0', gateway: 'fe80::9', metric: 512, protocol: 4 };
  const viaMesh = walk(state.rules, [...state.routes, mesh], { family: 6, dst: a('2001:db8:ffff::1'), mark: 0, iif: 'lo' });
  t.match(viaMesh.outcome, { kind: 'route', route: { table: 254, dev: 'bat0' } });
});

t.test('WAN down (only the unreachable route in table 1): marked is unreachable, never main', async (t) => {
  const state = withGate();
  const mesh: Route = { family: 6, table: 254, dst: p('::/0'), type: 'unicast', dev: 'bat0', metric: 512, protocol: 4 };
  const down = { ...state, routes: [unreachable, mesh] };
  const marked = walk(down.rules, down.routes, { family: 6, dst: a('2001:db8:ffff::1'), mark: 1, iif: 'lo' });
  t.match(marked.outcome, { kind: 'reject', reason: 'unreachable', rule: { priority: 1 } });
  // Even with the unreachable route gone too, the marked gate (9002) fails closed.
  const bare = { ...state, routes: [mesh] };
  const r = walk(bare.rules, bare.routes, { family: 6, dst: a('2001:db8:ffff::1'), mark: 1, iif: 'lo' });
  t.match(r.outcome, { kind: 'reject', rule: { priority: 9002 } });
  const codes = routingFindings(bare, ctx).map((f) => f.code);
  t.same(codes, ['unreachable-route-missing']);
  // Without the gate and the unreachable route, the marked packet falls through into main: reported.
  const leaky = { ...netifdOnly(), routes: [mesh] };
  t.ok(routingFindings(leaky, ctx).some((f) => f.code === 'marked-reaches-main'));
});

t.test('findings name a missing fwmark rule and WAN routes left in main', async (t) => {
  const state = withGate();
  const noMarkRule = { ...state, rules: state.rules.filter((r) => r.priority !== 1) };
  const inMain: Route = { family: 6, table: 254, dst: p('2001:db8:1::/64'), type: 'unicast', dev: 'br-wan', metric: 256, protocol: 2 };
  const findings = routingFindings({ ...noMarkRule, routes: [...noMarkRule.routes, inMain] }, ctx);
  t.same(findings.map((f) => f.code).sort(), ['marked-not-routed', 'wan-route-in-main']);
  for (const f of findings) t.match(f.fix, /meshwan/);
});

t.test('rule selectors, invert, goto, nop, suppress_prefixlength, throw, sources', async (t) => {
  const rule = (extra: Partial<Rule>): Rule => ({ ...base, family: 6, priority: 100, action: 'lookup', table: 10, ...extra });
  const pkt = { family: 6 as const, dst: a('2001:db8::1'), mark: 0, iif: 'eth0' };
  t.ok(ruleMatches(rule({ iif: 'eth0' }), pkt));
  t.notOk(ruleMatches(rule({ oif: 'eth1' }), pkt));
  t.notOk(ruleMatches(rule({ src: p('2001:db8::/32') }), pkt), 'IPv6 from-rule needs a source');
  t.ok(ruleMatches(rule({ src: p('2001:db8::/32') }), { ...pkt, src: a('2001:db8::2') }));
  t.ok(ruleMatches(rule({ src: p('0.0.0.0/0'), family: 4 }), { ...pkt, family: 4, dst: a('192.0.2.1') }));
  t.notOk(ruleMatches(rule({ src: p('192.0.2.0/24'), family: 4 }), { ...pkt, family: 4, dst: a('192.0.2.1') }));
  t.notOk(ruleMatches(rule({ tos: 4 }), pkt));
  t.notOk(ruleMatches(rule({ uidrange: [1, 2] }), pkt));
  t.ok(ruleMatches(rule({ uidrange: [1, 2] }), { ...pkt, uid: 2 }));
  t.notOk(ruleMatches(rule({ ipproto: 17 }), pkt));
  t.notOk(ruleMatches(rule({ dport: [53, 53] }), { ...pkt, dport: 54 }));
  t.ok(ruleMatches(rule({ fwmark: 2, invert: true }), pkt));
  t.ok(ruleMatches(rule({ fwmark: 2, fwmask: 2 }), { ...pkt, mark: 3 }));

  const routes: Route[] = [
    { family: 6, table: 10, dst: p('::/0'), type: 'unicast', dev: 'x', metric: 1, protocol: 4 },
    { family: 6, table: 20, dst: p('2001:db8::/32'), type: 'throw', metric: 1, protocol: 4 },
    { family: 6, table: 30, dst: p('2001:db8::/32'), src: p('2001:db8:5::/48'), type: 'unicast', dev: 'y', metric: 1, protocol: 4 },
    { family: 6, table: 30, dst: p('2001:db8::/32'), type: 'unicast', dev: 'z', metric: 5, protocol: 4 },
    { family: 6, table: 30, dst: p('2001:db8::/32'), type: 'unicast', dev: 'w', metric: 2, protocol: 4 },
  ];
  const rules: Rule[] = [
    rule({ priority: 1, action: 'nop' }),
    rule({ priority: 2, action: 'goto', goto: 5 }),
    rule({ priority: 3, action: 'blackhole' }),
    rule({ priority: 5, table: 10, suppressPrefixlen: 0 }),
    rule({ priority: 6, table: 20 }),
    rule({ priority: 7, table: 30 }),
  ];
  t.match(walk(rules, routes, pkt).outcome, { kind: 'route', route: { dev: 'w' } }, 'suppressed, thrown, then lowest metric');
  t.match(walk(rules, routes, { ...pkt, src: a('2001:db8:5::1') }).outcome, { kind: 'route', route: { dev: 'y' } }, 'source-specific wins');
  t.match(walk(rules.slice(2), routes, pkt).outcome, { kind: 'reject', reason: 'blackhole' });
  t.equal(lookupTable(routes, 30, { ...pkt, oif: 'q' }), undefined, 'oif restricts to its routes');
  t.equal(walk([rule({ priority: 2, action: 'goto', goto: 99 })], routes, pkt).outcome.kind, 'none');
  t.same(walkOutput(rules, routes, { ...pkt, family: 4, dst: a('192.0.2.1') }, [a('192.0.2.2')]).length, 1, 'IPv4 does not retry');
});
