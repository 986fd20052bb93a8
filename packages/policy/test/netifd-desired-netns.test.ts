// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * Issue #19's desired behaviour that holds now, against OpenWrt's real netifd (test/lib/netifd.ts): beside a
 * running netifd meshwan adds its gate and nothing else (no rule twice: its copies carry netifd's proto unspec);
 * alone it makes netifd's rules attribute for attribute (the IPv6 `iif lo` and `failed_policy` only with
 * `config device … option ipv6 '1'`); and the WAN's link-local prefix stays in main, as netifd leaves it.
 * Still pending (netifd-desired-pending.ts): meshwan alone's prefix routes and gateway defaults.
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

function rulesOnly(s: Snapshot): Snapshot {
  return { rules4: comparable(s.rules4), rules6: comparable(s.rules6), routes4: [], routes6: [] };
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
    const again = applyRoutes(n);
    t.equal(again.stdout, 'no change\n', 'a second apply beside netifd changes nothing');
  });

  t.test(`${name}: meshwan alone makes netifd's rules, attribute for attribute`, async (t) => {
    const netifd = snapshot((await netifdNode(t, text)).node);
    const { n: b, r } = meshwanAloneNode(t, text);
    t.equal(r.status, 0, r.stderr);
    const alone = snapshot(b.node);
    const diffs = differences(rulesOnly(netifd), rulesOnly(withoutGate(alone)));
    t.same(diffs, [], formatDifferences(diffs));
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
