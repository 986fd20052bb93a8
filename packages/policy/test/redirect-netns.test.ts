// tier: root: network namespaces, SO_MARK or firewall rules
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import t from 'tap';
import { digSync } from '../../../test/lib/dig.js';
import { isRoot } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { startForwarder } from './lib/forwarder.js';
import { cliEnv, createNode, meshwan, meshwanWanBin, type TestNode } from './lib/node.js';

requireParts(!isRoot() ? 'needs root for network namespaces' : false);

t.setTimeout(120_000);
const libpacketmark = new URL('../../../lib-packetmark/build/libpacketmark.so', import.meta.url).pathname;
requireParts(existsSync(libpacketmark) ? false : 'lib-packetmark is not built (make -C lib-packetmark)');

/** dig in the node as gid 800 (the VPN group) or another gid; the answers, one a line, empty when nothing answered. */
function dig(n: TestNode, gid: number, server: string, name: string, type: string, tcp = false): string {
  return digSync({ server, name, type, tcp, gid, timeoutSeconds: 1, netns: n.node.name }).answers.join('\n');
}

function wan(n: TestNode, ...args: string[]) {
  return spawnSync('ip', ['netns', 'exec', n.node.name, process.execPath, meshwanWanBin, ...args], {
    encoding: 'utf8',
    env: cliEnv({ MESHWAN_LIBPACKETMARK: libpacketmark }),
  });
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

t.test('meshwan-wan: the VPN group, marked sockets, exec semantics', async (t) => {
  const n = createNode(t);
  t.equal(meshwan(n, ['apply']).status, 0);
  t.equal(wan(n, 'id', '-g').stdout.trim(), '800');
  t.equal(wan(n, 'sh', '-c', 'exit 7').status, 7);
  t.equal(wan(n, 'sh', '-c', 'echo "$LIBPACKETMARK_MARK $LD_PRELOAD"').stdout.trim(), `0x1 ${libpacketmark}`);
  const killed = wan(n, 'sh', '-c', 'kill -TERM $$');
  t.ok(killed.signal === 'SIGTERM' || killed.status === 143, 'dies of the signal that killed the command (or 128+15)');
  const missing = wan(n, 'no-such-command-here');
  t.equal(missing.status, 127);
  t.match(missing.stderr, /command not found/);
  t.equal(wan(n).status, 2);
  t.test('with lib-packetmark built, a marked lookup reaches the forwarder through table 1', async (t) => {
    await startForwarder(t, n.node);
    // No mesh route: an unmarked socket cannot even get to nat OUTPUT, a marked one is routed by table 1.
    t.notMatch(dig(n, 800, '2001:db8:ffff::53', 'example.org', 'AAAA'), /2001:db8::99/);
    const r = wan(n, 'dig', '+short', '+time=1', '+tries=1', '@2001:db8:ffff::53', 'example.org', 'AAAA');
    t.equal(r.stdout.trim(), '2001:db8::99', r.stderr);
  });
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
