// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * A move is make-before-break and keeps the route whole: when the kernel refuses the route in its new table, the
 * route stays in main (never deleted first); an `onlink` route keeps the flag in table 1, without which the kernel
 * refuses its gateway there.
 */
import t from 'tap';
import { isRoot } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { createNode, dualNetworkText, meshwan } from './lib/node.js';

t.setTimeout(120_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');

interface RouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  flags?: string[];
}

t.test('a move whose add fails leaves the route in main, and moves it once the add can succeed', async (t) => {
  const n = createNode(t);
  // Table 1 already holds another WAN default at the same metric (a stale one via another router): IPv6 refuses
  // a second route there (EEXIST under NLM_F_EXCL), which is not the moved route being there.
  n.node.ip('-6', 'route', 'add', 'default', 'via', 'fe80::99', 'dev', 'br-wan', 'table', '1', 'metric', '1024');
  const defaults = (table: string) =>
    n.node.ipJson<RouteJson[]>('-6', 'route', 'show', 'table', table).filter((r) => r.dst === 'default' && r.dev === 'br-wan');

  const failed = meshwan(n, ['apply']);
  t.equal(failed.status, 1, 'the failed add is an error');
  t.match(failed.stderr, /addRoute default via 2001:db8:1::1 dev br-wan table 1 .*EEXIST/);
  t.match(failed.stderr, /deleteRoute default via 2001:db8:1::1 dev br-wan table main .*kept: its add to table 1 failed/);
  t.notMatch(failed.stdout, /delete route default via 2001:db8:1::1/, 'no delete ran');
  t.match(defaults('main'), [{ gateway: '2001:db8:1::1' }], 'the WAN default is still in main');
  t.match(defaults('1'), [{ gateway: 'fe80::99' }], 'and not in table 1');

  n.node.ip('-6', 'route', 'del', 'default', 'via', 'fe80::99', 'dev', 'br-wan', 'table', '1', 'metric', '1024');
  const ok = meshwan(n, ['apply']);
  t.equal(ok.status, 0, ok.stderr);
  t.match(defaults('1'), [{ gateway: '2001:db8:1::1' }], 'moved on the next pass');
  t.equal(defaults('1').length, 1);
  t.same(defaults('main'), []);
});

t.test('an onlink route keeps onlink when it moves to table 1, both families', async (t) => {
  const n = createNode(t, dualNetworkText);
  // Gateways on no prefix of the device: only `onlink` lets the kernel accept them, in main and in table 1.
  n.node.ip('-4', 'route', 'add', '203.0.113.0/25', 'via', '203.0.113.254', 'dev', 'br-wan', 'onlink');
  n.node.ip('-6', 'route', 'add', '2001:db8:9::/64', 'via', '2001:db8:ff::1', 'dev', 'br-wan', 'onlink');
  const r = meshwan(n, ['apply']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /add route 203\.0\.113\.0\/25 via 203\.0\.113\.254 dev br-wan table 1 .*onlink/);
  const find = (family: '-4' | '-6', table: string, dst: string) =>
    n.node.ipJson<RouteJson[]>(family, 'route', 'show', 'table', table).find((x) => x.dst === dst);
  t.match(find('-4', '1', '203.0.113.0/25'), { gateway: '203.0.113.254', dev: 'br-wan', flags: ['onlink'] });
  t.match(find('-6', '1', '2001:db8:9::/64'), { gateway: '2001:db8:ff::1', dev: 'br-wan', flags: ['onlink'] });
  t.equal(find('-4', 'main', '203.0.113.0/25'), undefined, 'gone from main');
  t.equal(find('-6', 'main', '2001:db8:9::/64'), undefined, 'gone from main');
  t.equal(meshwan(n, ['apply']).stdout, 'no change\n');
});
