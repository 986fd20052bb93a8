import t from 'tap';
import { parseAddress } from '../src/ip.js';
import { forwarderOtherSockets, listensOn, parseProcNet, parseSs } from '../src/sockets.js';

const udp = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
13898: 0100007F:0036 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5065785 2 0000000067f8e9ed 0
13899: 00000000:1234 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5065786 2 0000000067f8e9ed 0
`;
const udp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 1: 00000000000000000000000001000000:0036 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 77 2 0 0
`;
const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 0: 0100007F:0036 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 88 1 0 100 0 0 10 0
 1: 0100007F:0036 0100007F:9999 01 00000000:00000000 00:00000000 00000000     0        0 89 1 0 100 0 0 10 0
`;

t.test('/proc/net tables: addresses in network order, states, wildcard binds', async (t) => {
  const sockets = [...parseProcNet(udp, 4, 'udp'), ...parseProcNet(udp6, 6, 'udp'), ...parseProcNet(tcp, 4, 'tcp')];
  t.equal(sockets[0]?.addr, parseAddress('127.0.0.1')?.addr);
  t.equal(sockets[0]?.port, 54);
  t.equal(sockets[2]?.addr, parseAddress('::1')?.addr);
  t.ok(listensOn(sockets, 'udp', 4, parseAddress('127.0.0.1')?.addr ?? 0n, 54));
  t.ok(listensOn(sockets, 'udp', 6, 1n, 54));
  t.ok(listensOn(sockets, 'tcp', 4, parseAddress('127.0.0.1')?.addr ?? 0n, 54));
  t.notOk(listensOn(sockets, 'tcp', 6, 1n, 54));
  t.ok(listensOn(sockets, 'udp', 4, parseAddress('127.0.0.1')?.addr ?? 0n, 0x1234), 'a wildcard bind serves loopback');
});

t.test('ss lines: owner pids and fwmark; the forwarder is whoever holds port 54', async (t) => {
  const ss = parseSs(
    [
      'udp   UNCONN 0 0 127.0.0.1:54 0.0.0.0:* users:(("wan-dns",pid=10,fd=3)) ino:1 sk:1 cgroup:/ <->',
      'udp   UNCONN 0 0 [::1]:54 [::]:* users:(("wan-dns",pid=10,fd=4)) ino:2 sk:2 cgroup:/ <->',
      'udp   ESTAB 0 0 192.0.2.5:40000 192.0.2.1:53 users:(("wan-dns",pid=10,fd=5)) ino:3 sk:3 fwmark:0x1 cgroup:/ <->',
      'udp   ESTAB 0 0 192.0.2.5:40001 192.0.2.1:53 users:(("wan-dns",pid=10,fd=6)) ino:4 sk:4 cgroup:/ <->',
      'tcp   ESTAB 0 0 10.0.0.1:22 10.0.0.2:5000 users:(("sshd",pid=20,fd=3)) ino:5 sk:5 cgroup:/ <->',
      '',
    ].join('\n'),
  );
  t.equal(ss.length, 5);
  t.same(ss[1], { protocol: 'udp', local: '[::1]', port: 54, pids: [10], fwmark: 0 });
  const others = forwarderOtherSockets(ss, 54);
  t.same(
    others.map((s) => [s.port, s.fwmark]),
    [
      [40000, 1],
      [40001, 0],
    ],
  );
});
