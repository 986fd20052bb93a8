/**
 * `check`'s question, where the kernel sends a packet, answered by @meshwan/netlink's RouteCache (lookup, and
 * lookupOutput for IPv6's retry with a picked source; both checked against the kernel in netlink's suite) over the
 * rules policy derives: #520 without the gate, none with it, and the findings that name each broken path.
 */
import type { Rule } from '@meshwan/netlink';
import t from 'tap';
import { deriveDesired } from '../src/desired.js';
import { routingFindings } from '../src/findings.js';
import { type Prefix, parsePrefix } from '../src/ip.js';
import { newRule, type Route, RTPROT_MESHWAN, RTPROT_STATIC } from '../src/model.js';
import { parseNetwork } from '../src/network.js';
import type { Address, KernelState, Link } from '../src/state.js';
import { gluonNetwork, split } from './lib/fixtures.js';
import { kernelState } from './lib/kernel.js';

const p = (text: string) => parsePrefix(text) as Prefix;
const kernelDefaults: Rule[] = [
  newRule({ family: 6, priority: 0, action: 'lookup', table: 255, protocol: RTPROT_STATIC }),
  newRule({ family: 6, priority: 32766, action: 'lookup', table: 254, protocol: RTPROT_STATIC }),
];
const links: Link[] = [
  { name: 'lo', ifindex: 1, up: true },
  { name: 'br-wan', ifindex: 5, up: true },
  { name: 'bat0', ifindex: 7, up: true },
];
const addresses: Address[] = [{ dev: 'br-wan', family: 6, address: '2001:db8:1::5', len: 64 }];
const wanRoutes: Route[] = [
  { family: 6, table: 1, dst: p('::/0'), type: 'unicast', dev: 'br-wan', gateway: 'fe80::1', metric: 1024, protocol: 9 },
  { family: 6, table: 1, dst: p('2001:db8:1::/64'), type: 'unicast', dev: 'br-wan', metric: 256, protocol: 2 },
  { family: 6, table: 1, dst: p('fe80::/64'), type: 'unicast', dev: 'br-wan', metric: 256, protocol: 2 },
];
const unreachable: Route = { family: 6, table: 1, dst: p('::/0'), type: 'unreachable', metric: 65535, protocol: 4 };
const mesh: Route = { family: 6, table: 254, dst: p('::/0'), type: 'unicast', dev: 'bat0', gateway: 'fe80::9', metric: 512, protocol: 4 };
const ctx = { split, families: [6] as const, wanTables: new Set([1]), wanDevices: ['br-wan'] };
const far = '2001:db8:ffff::1';

/** With br-wan's `option ipv6 '1'`: netifd's IPv6 `iif lo lookup 1` (90000+ifindex) and failed_policy exist. */
const ipv6Network = [...gluonNetwork, { type: 'device', name: 'brwan', options: { name: 'br-wan', ipv6: '1' } }];

function rulesOf(gate: boolean): Rule[] {
  const desired = deriveDesired(parseNetwork(ipv6Network), split, { links, addresses, routes: [] });
  return [...kernelDefaults, ...desired.rules.filter((r) => gate || r.protocol !== RTPROT_MESHWAN)];
}
/** The kernel as netifd alone leaves it on a Gluon node whose mesh has no route (main empty). */
function netifdOnly(routes: readonly Route[] = [...wanRoutes, unreachable]): KernelState {
  return kernelState(links, addresses, rulesOf(false), routes);
}
function withGate(routes: readonly Route[] = [...wanRoutes, unreachable]): KernelState {
  return kernelState(links, addresses, rulesOf(true), routes);
}

t.test('#520: with netifd rules alone an unmarked packet from the WAN address reaches table 1', async (t) => {
  const state = netifdOnly();
  // Main is empty, so netifd's `iif lo lookup 1` (pref 90000+ifindex) already hands the packet to table 1.
  const first = state.cache.lookupOutput(far, {}, ['2001:db8:1::5']);
  t.equal(first.length, 1, 'routed at once: no retry');
  t.match(first[0]?.result, { verdict: 'route', rule: { priority: 90005 }, table: 1 });
  // Without that rule, the kernel's retry with the source it picked matches `from WANADDR lookup 1` (pref 10000).
  const noLo = kernelState(
    links,
    addresses,
    rulesOf(false).filter((r) => r.priority !== 90005),
    [...wanRoutes, unreachable],
  );
  const results = noLo.cache.lookupOutput(far);
  t.match(results[0], { result: { verdict: 'unreachable', code: 'ENETUNREACH' } }, 'first lookup without a source fails');
  t.match(results[1], { src: '2001:db8:1::5', result: { verdict: 'route', rule: { priority: 10000 }, table: 1 } });
  t.ok(routingFindings(state, ctx).some((f) => f.code === 'unmarked-reaches-wan-table'));
  const leak =
    /unmarked IPv6 packet from 2001:db8:1::5 to .* via rule "10000: from 2001:db8:1::5 lookup 1" and route "default via fe80::1 dev br-wan table 1/;
  t.ok(
    routingFindings(noLo, ctx).some((f) => f.code === 'unmarked-reaches-wan-table' && leak.test(f.what)),
    'the finding names the retry, its source, rule and route',
  );
});

t.test('with the gate: unmarked packets never reach table 1, marked ones always use it', async (t) => {
  const state = withGate();
  t.same(routingFindings(state, ctx), []);
  const unmarked = state.cache.lookupOutput(far);
  t.equal(unmarked.length, 2, 'the first lookup and the retry from the WAN address');
  for (const r of unmarked) t.equal(r.result.verdict, 'unreachable');
  t.match(state.cache.lookup(far, { mark: 1 }), { verdict: 'route', table: 1, route: { oif: 5 } });
  // Marked to a link-local DNS server on the WAN (RA RDNSS): found in table 1 because fe80::/64 is there.
  t.match(state.cache.lookup('fe80::1', { mark: 1, oif: 'br-wan' }), { verdict: 'route', table: 1, route: { dstLength: 64 } });
  // Mesh route in main: unmarked traffic uses it.
  t.match(withGate([...wanRoutes, unreachable, mesh]).cache.lookup(far), { verdict: 'route', table: 254, route: { oif: 7 } });
});

t.test('WAN down (only the unreachable route in table 1): marked is unreachable, never main', async (t) => {
  t.match(withGate([unreachable, mesh]).cache.lookup(far, { mark: 1 }), { verdict: 'unreachable', rule: { priority: 1 }, table: 1 });
  // Even with the unreachable route gone too, the marked gate (9002) fails closed.
  const bare = withGate([mesh]);
  t.match(bare.cache.lookup(far, { mark: 1 }), { verdict: 'unreachable', rule: { priority: 9002 } });
  t.same(
    routingFindings(bare, ctx).map((f) => f.code),
    ['unreachable-route-missing'],
  );
  // Without the gate and the unreachable route, the marked packet falls through into main: reported.
  t.ok(routingFindings(netifdOnly([mesh]), ctx).some((f) => f.code === 'marked-reaches-main'));
});

t.test('findings name a missing fwmark rule and WAN routes left in main', async (t) => {
  const inMain: Route = { family: 6, table: 254, dst: p('2001:db8:1::/64'), type: 'unicast', dev: 'br-wan', metric: 256, protocol: 2 };
  const state = kernelState(
    links,
    addresses,
    rulesOf(true).filter((r) => r.priority !== 1),
    [...wanRoutes, unreachable, inMain],
  );
  const findings = routingFindings(state, ctx);
  t.same(findings.map((f) => f.code).sort(), ['marked-not-routed', 'wan-route-in-main']);
  for (const f of findings) t.match(f.fix, /meshwan/);
});

t.test('goto, nop, suppress_prefixlength, throw, source-specific routes, metric', async (t) => {
  const rule = (extra: Partial<Rule> & Pick<Rule, 'priority'>): Rule =>
    newRule({ family: 6, action: 'lookup', table: 10, protocol: RTPROT_STATIC, ...extra });
  const devs: Link[] = ['x', 'y', 'z', 'w'].map((name, i) => ({ name, ifindex: 10 + i, up: true }));
  const routes: Route[] = [
    { family: 6, table: 10, dst: p('::/0'), type: 'unicast', dev: 'x', metric: 1, protocol: 4 },
    { family: 6, table: 20, dst: p('2001:db8::/32'), type: 'throw', metric: 1, protocol: 4 },
    { family: 6, table: 30, dst: p('2001:db8::/32'), src: p('2001:db8:5::/48'), type: 'unicast', dev: 'y', metric: 1, protocol: 4 },
    { family: 6, table: 30, dst: p('2001:db8::/32'), type: 'unicast', dev: 'z', metric: 5, protocol: 4 },
    { family: 6, table: 30, dst: p('2001:db8::/32'), type: 'unicast', dev: 'w', metric: 2, protocol: 4 },
  ];
  const rules: Rule[] = [
    rule({ priority: 1, action: 'nop', table: 0 }),
    rule({ priority: 2, action: 'goto', goto: 5, table: 0 }),
    rule({ priority: 3, action: 'blackhole', table: 0 }),
    rule({ priority: 5, table: 10, suppressPrefixLength: 0 }),
    rule({ priority: 6, table: 20 }),
    rule({ priority: 7, table: 30 }),
  ];
  const state = kernelState(devs, [], rules, routes);
  t.match(
    state.cache.lookup('2001:db8::1', { iif: 'x' }),
    { verdict: 'route', route: { oif: 13 } },
    'suppressed, thrown, then lowest metric',
  );
  t.match(state.cache.lookup('2001:db8::1', { src: '2001:db8:5::1' }), { verdict: 'route', route: { oif: 11 } }, 'source-specific wins');
  t.match(kernelState(devs, [], rules.slice(2), routes).cache.lookup('2001:db8::1'), { verdict: 'blackhole', rule: { priority: 3 } });
  t.match(kernelState(devs, [], [rule({ priority: 2, action: 'goto', goto: 99, table: 0 })], routes).cache.lookup('2001:db8::1'), {
    verdict: 'unreachable',
    code: 'ENETUNREACH',
  });
  t.equal(state.cache.lookupOutput('192.0.2.1', {}, ['192.0.2.2']).length, 1, 'IPv4 does not retry');
});
