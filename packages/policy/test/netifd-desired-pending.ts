/**
 * Issue #19's desired behaviour, asserted against OpenWrt's real netifd. NOT in the suite yet (the name does not
 * end in .test.ts): each assertion fails until its difference is closed (see netifd-facts-netns.test.ts for what
 * holds now). Run by hand: cd packages/policy && ../../node_modules/.bin/tap --disable-coverage test/netifd-desired-pending.ts
 * What passes already is in netifd-desired-netns.test.ts (beside netifd; alone, the rules). Left here: meshwan
 * alone's prefix routes and gateway defaults (proto static, IPv4 metric 0 without src, IPv6 metric 1024), and the
 * kernel's default rules, which meshwan leaves as `proto kernel` (README "Beside netifd").
 */
import t from 'tap';
import {
  differences,
  formatDifferences,
  meshwanAloneNode,
  netifdNode,
  snapshot,
  staticWanVariants,
  withoutGate,
} from './lib/netifd-node.js';

t.setTimeout(240_000);

for (const [name, text] of staticWanVariants) {
  t.test(`${name}: meshwan alone makes what netifd makes, but for the gate`, async (t) => {
    const netifd = snapshot((await netifdNode(t, text)).node);
    const { n: b, r } = meshwanAloneNode(t, text);
    t.equal(r.status, 0, r.stderr);
    const diffs = differences(netifd, withoutGate(snapshot(b.node)));
    t.same(diffs, [], formatDifferences(diffs));
  });
}
