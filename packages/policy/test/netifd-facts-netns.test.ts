// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * Issue #19's facts, from OpenWrt's real netifd (test/lib/netifd.ts): exactly which rules and routes netifd makes
 * from Gluon-like static WAN sections, with and without `config device … option ipv6 '1'`, and what meshwan does
 * beside it. Each test prints both sides and their differences as tap comments (the lead's notes quote them).
 * What meshwan must make of them (alone: the same, but for its gate) is asserted in netifd-desired-netns.test.ts.
 */
import t from 'tap';
import { type Namespace, type Teardowns, waitFor } from '../../../test/lib/netns.js';
import {
  applyRoutes,
  createStaticWanNode,
  differences,
  formatDifferences,
  formatSnapshot,
  isGate,
  meshwanAloneNode,
  netifdOn,
  snapshot,
  staticWanVariants,
  withoutGate,
} from './lib/netifd-node.js';
import type { TestNode } from './lib/node.js';

t.setTimeout(240_000);

/** netifd's rules without the device option: `proto unspec` throughout, its start-up flush re-adds the defaults. */
const netifdRules4 = [
  '0: from all lookup local proto unspec',
  '1: from all fwmark 0x1/0x1 lookup 1 proto unspec',
  '10000: from 192.0.2.5 lookup 1 proto unspec',
  '20000: from all to 192.0.2.5/24 lookup 1 proto unspec',
  '32766: from all lookup main proto unspec',
  '32767: from all lookup default proto unspec',
  '90002: from all iif lo lookup 1 proto unspec',
];
const netifdRules6 = [
  '0: from all lookup local proto unspec',
  '1: from all fwmark 0x1/0x1 lookup 1 proto unspec',
  '10000: from 2001:db8:1::5 lookup 1 proto unspec',
  '20000: from all to 2001:db8:1::5/64 lookup 1 proto unspec',
  '32766: from all lookup main proto unspec',
];
/** With `option ipv6 '1'`: IPv6 `iif lo` and `failed_policy` (action 12), the latter once per interface on wan0. */
const netifdRules6Ipv6Device = [
  ...netifdRules6,
  '90002: from all iif lo lookup 1 proto unspec',
  '4200000002: from all iif wan0 12 proto unspec',
  '4200000002: from all iif wan0 12 proto unspec',
];
const netifdRoutes4 = [
  'unicast default via 192.0.2.1 dev wan0 table 1 proto static scope global',
  'unreachable default table 1 proto static scope global metric 65535',
  'unicast 192.0.2.0/24 dev wan0 table 1 proto static scope link',
];
const netifdRoutes6 = [
  'unicast 2001:db8:1::/64 dev wan0 table 1 proto static scope global metric 1024 pref medium',
  'unicast default via 2001:db8:1::1 dev wan0 table 1 proto static scope global metric 1024 pref medium',
  'unreachable default dev lo table 1 proto static scope global metric 65535 pref medium',
  'unicast fe80::/64 dev wan0 table main proto kernel scope global metric 256 pref medium',
];

/** The interfaces are up before every rule and route is in: wait until netifd has made as many as it will. */
async function netifdSettled(ns: Namespace, rules6: number): Promise<void> {
  await waitFor(
    "netifd's rules and routes",
    () => {
      const s = snapshot(ns);
      return (
        s.rules4.length >= netifdRules4.length &&
        s.rules6.length >= rules6 &&
        s.routes4.length >= netifdRoutes4.length &&
        s.routes6.length >= netifdRoutes6.length
      );
    },
    60_000,
  );
}

const variants = staticWanVariants.map(([name, text], i) => ({ name, text, rules6: i === 0 ? netifdRules6 : netifdRules6Ipv6Device }));

/** A node the real netifd has configured, every rule and route of its in. */
async function settledNetifdNode(t: Teardowns, v: (typeof variants)[number]): Promise<TestNode> {
  const n = createStaticWanNode(t, v.text);
  await netifdOn(t, n, v.text);
  await netifdSettled(n.node, v.rules6.length);
  return n;
}

for (const v of variants) {
  t.test(`netifd alone, ${v.name}: its exact rules and routes`, async (t) => {
    const n = await settledNetifdNode(t, v);
    const s = snapshot(n.node);
    t.comment(`netifd alone (${v.name}):\n${formatSnapshot(s)}`);
    t.same(s.rules4, netifdRules4);
    t.same(s.rules6, v.rules6);
    // Route dumps follow the kernel's trie order: compare as sets of lines.
    t.same([...s.routes4].sort(), [...netifdRoutes4].sort());
    t.same([...s.routes6].sort(), [...netifdRoutes6].sort());
  });

  t.test(`meshwan beside netifd, ${v.name}: adds the gate, removes and changes none of netifd's objects`, async (t) => {
    const n = await settledNetifdNode(t, v);
    const before = snapshot(n.node);
    const r = applyRoutes(n);
    t.equal(r.status, 0, r.stderr);
    const after = snapshot(n.node);
    t.comment(`meshwan beside netifd (${v.name}):\n${formatSnapshot(after)}`);
    t.comment(`differences (netifd alone vs beside, gate left out):\n${formatDifferences(differences(before, withoutGate(after)))}`);
    for (const rules of [after.rules4, after.rules6]) t.equal(rules.filter(isGate).length, 3, 'the gate: 9000, 9001, 9002');
    // Every rule of netifd's is still there, attribute for attribute.
    for (const k of ['rules4', 'rules6'] as const) {
      const missing = differences(before, after).find((d) => d.what === k)?.onlyNetifd ?? [];
      t.same(missing, [], `no ${k} of netifd's removed or changed`);
    }
    // Every route netifd made itself (proto static) is still there; fe80::/64 is the kernel's.
    for (const k of ['routes4', 'routes6'] as const) {
      const missing = (differences(before, after).find((d) => d.what === k)?.onlyNetifd ?? []).filter((l) => l.includes('proto static'));
      t.same(missing, [], `no ${k} of netifd's removed or changed`);
    }
  });

  t.test(`meshwan alone, ${v.name}: the gate and netifd's table-1 floors`, async (t) => {
    const { n, r } = meshwanAloneNode(t, v.text);
    t.equal(r.status, 0, r.stderr);
    const s = snapshot(n.node);
    t.comment(`meshwan alone (${v.name}):\n${formatSnapshot(s)}`);
    t.comment(
      `differences (netifd alone vs meshwan alone, gate left out):\n${formatDifferences(
        differences({ rules4: netifdRules4, rules6: [...v.rules6], routes4: netifdRoutes4, routes6: netifdRoutes6 }, withoutGate(s)),
      )}`,
    );
    for (const rules of [s.rules4, s.rules6]) t.equal(rules.filter(isGate).length, 3, 'the gate: 9000, 9001, 9002');
    t.ok(s.routes4.includes(netifdRoutes4[1] ?? ''), 'the IPv4 unreachable floor, as netifd makes it');
    t.ok(s.routes6.includes(netifdRoutes6[2] ?? ''), 'the IPv6 unreachable floor, as netifd makes it');
  });
}
