// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * An RA route moved out of main keeps its lifetime (issue #17): the copy in table 1 expires when the router's
 * route would have, and a route announced again refreshes the copy instead of letting it lapse.
 */
import t from 'tap';
import { isRoot, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { createNode, meshwan, routeGet } from './lib/node.js';

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  expires?: number;
}

t.setTimeout(240_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');

t.test('a moved RA-style route expires in table 1, and a fresh announcement refreshes it', async (t) => {
  const n = createNode(t);
  // the fib6 gc deletes expired routes every gc_interval (30 s by default); 1 s in this namespace
  n.node.sysctl('net.ipv6.route.gc_interval', '1');
  const first = meshwan(n, ['apply']);
  t.equal(first.status, 0, first.stderr);
  const table1 = () => n.node.ipJson<IpRoute[]>('-6', 'route', 'show', 'table', '1');
  const inMain = (dst: string) => n.node.ipJson<IpRoute[]>('-6', 'route', 'show', 'table', 'main').some((r) => r.dst === dst);

  // What the kernel does with an RA: a route in main through the WAN device, with the router's lifetime.
  n.node.ip('-6', 'route', 'add', '2001:db8:77::/48', 'via', 'fe80::1', 'dev', 'br-wan', 'expires', '20');
  n.node.ip('-6', 'route', 'add', '2001:db8:78::/48', 'via', 'fe80::1', 'dev', 'br-wan', 'expires', '60');
  const moved = meshwan(n, ['apply']);
  t.equal(moved.status, 0, moved.stderr);
  t.match(moved.stdout, /add route 2001:db8:77::\/48 via fe80::1 dev br-wan table 1/);
  t.notOk(inMain('2001:db8:77::/48'), 'moved out of main');
  const short = table1().find((r) => r.dst === '2001:db8:77::/48');
  t.ok(short?.expires !== undefined && short.expires <= 20, `in table 1 with the time it had left (${short?.expires} s)`);
  const long = table1().find((r) => r.dst === '2001:db8:78::/48');
  t.ok(long?.expires !== undefined && long.expires > 30 && long.expires <= 60, `expires ${long?.expires} s`);
  t.match(routeGet(n, '-6', '2001:db8:77::1', 'mark', '1'), /via fe80::1 dev br-wan table 1/);

  // The router announces 2001:db8:78::/48 again: the kernel re-adds it to main with a fresh lifetime.
  n.node.ip('-6', 'route', 'add', '2001:db8:78::/48', 'via', 'fe80::1', 'dev', 'br-wan', 'expires', '900');
  const again = meshwan(n, ['apply']);
  t.equal(again.status, 0, again.stderr);
  t.match(again.stdout, /refresh route 2001:db8:78::\/48 via fe80::1 dev br-wan table 1 .* expires \d+s/);
  t.notOk(inMain('2001:db8:78::/48'), 'the announcement left main again');
  const refreshed = table1().filter((r) => r.dst === '2001:db8:78::/48');
  t.equal(refreshed.length, 1, 'refreshed in place, not doubled');
  t.ok((refreshed[0]?.expires ?? 0) > 800, `table 1 has the new lifetime (${refreshed[0]?.expires} s)`);
  const quiet = meshwan(n, ['apply']);
  t.equal(quiet.stdout, 'no change\n', 'nothing to refresh without a new announcement');

  // The unrefreshed one lapses in table 1 as the RA route would have in main.
  await waitFor('the 20 s route to leave table 1', () => !table1().some((r) => r.dst === '2001:db8:77::/48'), 120_000, 200);
  t.notOk(inMain('2001:db8:77::/48'), 'and it did not come back to main');
  t.notMatch(routeGet(n, '-6', '2001:db8:77::1', 'mark', '1'), /via fe80::1/, 'marked packets no longer use it');
  t.ok(
    table1().some((r) => r.dst === '2001:db8:78::/48'),
    'the refreshed one stays',
  );
});
