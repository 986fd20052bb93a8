// tier: root: network namespaces, SO_MARK or firewall rules
import t from 'tap';
import { digSync } from '../../../test/lib/dig.js';
import { isRoot } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { startForwarder } from './lib/forwarder.js';
import { createNode, meshwan, type TestNode } from './lib/node.js';

requireParts(!isRoot() ? 'needs root for network namespaces' : false);

t.setTimeout(120_000);

/** dig in the node as gid 800 (the VPN group) or another gid; the answers, one a line, empty when nothing answered. */
function dig(n: TestNode, gid: number, server: string, name: string, type: string, tcp = false): string {
  return digSync({ server, name, type, tcp, gid, timeoutSeconds: 1, netns: n.node.name }).answers.join('\n');
}

t.test("the VPN group's DNS to any server, UDP and TCP, IPv4 and IPv6, lands on the forwarder", async (t) => {
  const n = createNode(t);
  t.equal(meshwan(n, ['apply']).status, 0);
  await startForwarder(t, n.node);
  // Unmarked traffic needs a route before nat OUTPUT sees it: the mesh's default route.
  n.node.ip('-6', 'route', 'add', 'default', 'via', 'fd00:1::1', 'dev', 'mesh0');
  t.equal(dig(n, 800, '2001:db8:ffff::53', 'example.org', 'AAAA'), '2001:db8::99', 'UDP, IPv6');
  t.equal(dig(n, 800, '2001:db8:ffff::53', 'example.org', 'AAAA', true), '2001:db8::99', 'TCP, IPv6');
  t.equal(dig(n, 800, '203.0.113.53', 'example.org', 'A'), '192.0.2.99', 'UDP, IPv4');
  t.equal(dig(n, 800, '203.0.113.53', 'example.org', 'A', true), '192.0.2.99', 'TCP, IPv4');
  t.equal(dig(n, 800, '127.0.0.1', 'example.org', 'A'), '192.0.2.99', "Gluon's own case, 127.0.0.1:53");
  t.notMatch(dig(n, 0, '203.0.113.53', 'example.org', 'A'), /192.0.2.99/, 'other groups are not redirected');
});

t.test("the group's DNS and another process's never share a conntrack entry: no leak either way", async (t) => {
  const n = createNode(t);
  t.equal(meshwan(n, ['apply']).status, 0);
  n.node.ip('-6', 'route', 'add', 'default', 'via', 'fd00:1::1', 'dev', 'mesh0');
  // An independent witness: a counter on what leaves mesh0 from source port 40000 toward port 53.
  n.node.exec('nft', 'add table inet witness');
  n.node.exec('nft', 'add chain inet witness out { type filter hook postrouting priority 100; }');
  n.node.exec('nft', 'add rule inet witness out oifname "mesh0" udp sport 40000 udp dport 53 counter');
  const sent = (): number => Number(/packets (\d+)/.exec(n.node.exec('nft', 'list chain inet witness out'))?.[1] ?? 'NaN');
  // The same 5-tuple each time, alternating between a process outside the group and the group.
  const send = `import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(('::', 40000))
try:
    s.sendto(b'\\x12\\x34' + bytes(10), ('2001:db8:ffff::53', 53))
    print('sent')
except OSError as e:
    print('refused', e.errno)`;
  const asGroup = () => n.node.try('setpriv', '--regid=800', '--clear-groups', 'python3', '-c', send).stdout.trim();
  t.equal(n.node.exec('python3', '-c', send).trim(), 'sent', 'another process queries the mesh');
  t.equal(sent(), 1);
  t.equal(asGroup(), 'sent', 'then the group, same 5-tuple');
  t.equal(sent(), 1, 'is redirected: nothing of the group left through mesh0');
  t.equal(n.node.exec('python3', '-c', send).trim(), 'sent', 'the other process again, same 5-tuple');
  t.equal(sent(), 2, 'still goes to the mesh, not into the group redirect');

  // Without the zone rules, the guard alone must still fail closed.
  const rawRules = n.node.try('ip6tables-save', '-t', 'raw').stdout;
  t.match(rawRules, /dns-redirect-zone/, 'the zone rules are in raw OUTPUT');
  n.node.exec('ip6tables', '-t', 'raw', '-F', 'meshwan_OUTPUT');
  t.equal(n.node.exec('python3', '-c', send).trim(), 'sent');
  t.match(asGroup(), /^refused/, 'without the zone, the group query that missed the DNAT is refused');
  t.equal(sent(), 3, 'and nothing of the group left through mesh0');
});
