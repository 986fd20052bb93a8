// tier: root: network namespaces, SO_MARK or firewall rules
import t from 'tap';
import { isRoot } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { createNode, meshwan, routeGet } from './lib/node.js';

interface IpRule {
  priority: number;
  not?: null;
  src?: string;
  table?: string;
  action?: string;
  fwmark?: string;
  fwmask?: string;
  protocol?: string;
}
interface IpRoute {
  dst: string;
  dev?: string;
  type?: string;
  metric?: number;
}

t.setTimeout(120_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');
t.test('apply makes the split, a second apply changes nothing', async (t) => {
  const n = createNode(t);
  const first = meshwan(n, ['apply']);
  t.equal(first.status, 0, first.stderr);
  t.match(first.stdout, /add rule 9000: not from all fwmark 0x1\/0x1 lookup main proto meshwan/);
  const second = meshwan(n, ['apply']);
  t.equal(second.status, 0, second.stderr);
  t.equal(second.stdout, 'no change\n');

  const rules = n.node.ipJson<IpRule[]>('-6', 'rule');
  const brief = rules.map(
    (r) =>
      `${r.priority} ${r.not === null ? 'not ' : ''}${r.fwmark ?? ''}${r.fwmask ? `/${r.fwmask}` : ''} ${r.src ?? ''} ${r.table ?? r.action ?? ''}`,
  );
  t.same(brief, [
    '0  all local',
    '1 0x1/0x1 all 1',
    '9000 not 0x1/0x1 all main',
    '9001 not 0x1/0x1 all unreachable',
    '9002 0x1/0x1 all unreachable',
    '10000  2001:db8:1::5 1',
    '20000  all 1',
    '32766  all main',
  ]);
  const table1 = n.node.ipJson<IpRoute[]>('-6', 'route', 'show', 'table', '1');
  t.same(
    table1.map((r) => `${r.type ?? 'unicast'} ${r.dst} ${r.type ? '' : (r.dev ?? '')} ${r.metric}`).sort(),
    ['2001:db8:1::/64 br-wan 1024', 'unicast default br-wan 1024', 'unreachable default  65535']
      .map((s) => (s.startsWith('2001') ? `unicast ${s}` : s))
      .sort(),
  );
  t.same(
    n.node.ipJson<IpRoute[]>('-6', 'route', 'show', 'table', 'main', 'dev', 'br-wan').map((r) => r.dst),
    ['fe80::/64'],
    'no WAN route left in main but the link-local prefix, as netifd leaves it',
  );
  t.match(n.node.try('ip', '-4', 'route', 'show', 'table', '1').stderr, /does not exist/, 'IPv4 untouched without ip4table');

  // Marked packets use table 1 and the WAN; unmarked ones have only main, which is empty: unreachable.
  t.match(routeGet(n, '-6', '2001:db8:ffff::1', 'mark', '1'), /via 2001:db8:1::1 dev br-wan table 1/);
  t.match(routeGet(n, '-6', '2001:db8:ffff::1'), /unreachable/i);
  // #520: an unmarked packet with the WAN address as its source and main empty is not routed via table 1.
  t.match(routeGet(n, '-6', '2001:db8:ffff::1', 'from', '2001:db8:1::5'), /unreachable/i);
  t.match(routeGet(n, '-6', '2001:db8:1::1'), /unreachable/i, 'not even the WAN on-link prefix');
  // Once the mesh has a default route, unmarked traffic uses it — from any source.
  n.node.ip('-6', 'route', 'add', 'default', 'via', 'fd00:1::1', 'dev', 'mesh0');
  t.match(routeGet(n, '-6', '2001:db8:ffff::1'), /via fd00:1::1 dev mesh0/);
  t.match(routeGet(n, '-6', '2001:db8:ffff::1', 'from', '2001:db8:1::5'), /via fd00:1::1 dev mesh0/);
  t.match(routeGet(n, '-6', '2001:db8:ffff::1', 'mark', '1'), /dev br-wan table 1/);

  t.equal(n.node.exec('sysctl', '-n', 'net.ipv4.tcp_fwmark_accept').trim(), '1');

  // WAN down: marked traffic is unreachable, never main (and so never the mesh).
  n.node.ip('link', 'set', 'br-wan', 'down');
  t.match(routeGet(n, '-6', '2001:db8:ffff::1', 'mark', '1'), /unreachable|No route to host/i);
  const down = meshwan(n, ['apply']);
  t.equal(down.status, 0, down.stderr);
  t.match(routeGet(n, '-6', '2001:db8:ffff::1', 'mark', '1'), /unreachable|No route to host/i);
  t.notMatch(down.stdout, /delete rule (1|900[012]):/, 'the fwmark rule and the gate stay while the WAN is down');
});
