// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * Issue #19, against OpenWrt's real netifd (test/lib/netifd.ts), with and without `config device … option ipv6
 * '1'`: beside a running netifd meshwan adds its gate and nothing else (no rule twice: its copies carry netifd's
 * proto unspec; no failed_policy of its own); alone it makes netifd's rules and routes attribute for attribute
 * (the IPv6 `iif lo` and one `failed_policy` only with the device option; subnet routes and gateway defaults in
 * table 1 `proto static`, IPv4 metric 0 without src, IPv6 metric 1024); the WAN's link-local prefix stays in main.
 */
import t from 'tap';
import {
  applyRoutes,
  differences,
  formatDifferences,
  meshwanAloneNode,
  netifdNode,
  type Snapshot,
  snapshot,
  staticWanNetwork,
  staticWanVariants,
  withoutGate,
} from './lib/netifd-node.js';

t.setTimeout(240_000);

/**
 * The kernel's default rules (0, 32766, 32767) differ only by protocol: netifd's start-up flush re-adds them
 * without one, a fresh namespace has them as `proto kernel`; meshwan leaves them as they are (README "Beside
 * netifd"). netifd adds its failed_policy once per interface on the device (two identical rules for wan and
 * wan6); meshwan adds it once, which routes the same.
 */
function comparable(lines: readonly string[]): string[] {
  const out = lines
    .filter((l) => !/^(0|32766|32767): from all lookup (local|main|default) proto (unspec|kernel)$/.test(l))
    .filter((l, i, all) => !/^42\d{8}: .* 12 proto unspec$/.test(l) || all.indexOf(l) === i);
  return out;
}

function normalized(s: Snapshot): Snapshot {
  return { ...s, rules4: comparable(s.rules4), rules6: comparable(s.rules6) };
}

/** The failed_policy rules of wan0 (ifindex 2, so pref 4200000002). */
function failedPolicies(s: Snapshot): string[] {
  return s.rules6.filter((l) => /^4200000002: from all iif wan0 12 /.test(l));
}

for (const [name, text] of staticWanVariants) {
  t.test(`${name}: meshwan beside netifd adds only the gate, and a second apply changes nothing`, async (t) => {
    const n = await netifdNode(t, text);
    const before = snapshot(n.node);
    const r = applyRoutes(n);
    t.equal(r.status, 0, r.stderr);
    const after = snapshot(n.node);
    const diffs = differences(before, withoutGate(after));
    t.same(diffs, [], formatDifferences(diffs));
    t.ok(
      after.routes6.some((l) => l.startsWith('unicast fe80::/64 dev wan0 table main ')),
      'link-local stays in main',
    );
    t.equal(failedPolicies(after).length, failedPolicies(before).length, "no failed_policy beside netifd's own");
    const again = applyRoutes(n);
    t.equal(again.stdout, 'no change\n', 'a second apply beside netifd changes nothing');
  });

  t.test(`${name}: meshwan alone makes netifd's rules and routes, attribute for attribute`, async (t) => {
    const netifd = snapshot((await netifdNode(t, text)).node);
    const { n: b, r } = meshwanAloneNode(t, text);
    t.equal(r.status, 0, r.stderr);
    const alone = snapshot(b.node);
    const diffs = differences(normalized(netifd), normalized(withoutGate(alone)));
    t.same(diffs, [], formatDifferences(diffs));
    const expected = name === 'static WAN' ? 0 : 1;
    t.equal(failedPolicies(alone).length, expected, 'failed_policy once for wan0, though wan and wan6 are both on it');
    t.ok(
      alone.routes6.some((l) => l.startsWith('unicast fe80::/64 dev wan0 table main ')),
      'link-local stays in main',
    );
    // Behind the gate, an unmarked link-local packet out of the WAN (a DHCPv6 client's unicast, a reply to a
    // link-local peer) is routed by main; it would be unreachable had the prefix moved to table 1.
    const peer = b.uplink.ip('-6', '-o', 'addr', 'show', 'dev', 'home0', 'scope', 'link').match(/inet6 (fe80::[0-9a-f:]+)\//)?.[1];
    t.ok(peer, "the uplink's link-local address");
    t.match(
      b.node.ip('-6', 'route', 'get', peer ?? '', 'oif', 'wan0'),
      new RegExp(`^${peer} dev wan0 .*table main|^${peer} from :: dev wan0`),
    );
    const again = applyRoutes(b);
    t.equal(again.stdout, 'no change\n', 'a second apply alone changes nothing');
  });
}

t.test('meshwan alone follows DHCP-like address changes: a subnet route and gateway default leave with their address', async (t) => {
  const { n, r: first } = meshwanAloneNode(t, staticWanNetwork);
  t.equal(first.status, 0, first.stderr);
  const table1 = (s: Snapshot) =>
    [...s.routes4, ...s.routes6].filter((l) => / table 1 proto static /.test(l) && !l.startsWith('unreachable'));
  t.same(table1(snapshot(n.node)).length, 4, 'two subnet routes and two gateway defaults');
  n.node.ip('addr', 'del', '192.0.2.5/24', 'dev', 'wan0');
  n.node.ip('addr', 'add', '198.51.100.5/24', 'dev', 'wan0');
  const r = applyRoutes(n);
  t.equal(r.status, 0, r.stderr);
  const s = snapshot(n.node);
  t.ok(s.routes4.includes('unicast 198.51.100.0/24 dev wan0 table 1 proto static scope link'), 'the new subnet route, as netifd makes it');
  t.notOk(
    s.routes4.some((l) => l.includes('192.0.2.')),
    'the old subnet route and its gateway default are gone',
  );
  t.notOk(
    s.routes4.some((l) => l.includes('table main')),
    'nothing of the WAN left in main',
  );
  t.ok(
    s.routes6.includes('unicast default via 2001:db8:1::1 dev wan0 table 1 proto static scope global metric 1024 pref medium'),
    'the IPv6 default stays',
  );
  t.equal(applyRoutes(n).stdout, 'no change\n');
});
