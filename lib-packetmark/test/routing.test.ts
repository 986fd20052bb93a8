// tier: root: network namespaces, SO_MARK or firewall rules
// Routing proof: in a namespace with `fwmark 0x1/0x1 lookup 1`, main routing the target to peer A and table 1 to
// peer B, a program under the library reaches B and the same program without it reaches A. The witnesses are the
// peers' own answers and their nft counters. Covers markprobe, dig, curl, Python and Node (dgram and net).
import { existsSync } from 'node:fs';
import t from 'tap';
import { commandExists, isRoot } from '../../test/lib/netns.js';
import { requireParts } from '../../test/lib/require.js';
import { childEnv, markprobe } from './lib/probe.js';
import { answers, buildTopology, runInClient, type Topology, target4, target6 } from './lib/topo.js';

const missing = ['dig', 'curl', 'dnsmasq', 'nft', 'ss'].filter((c) => !commandExists(c));
requireParts(!isRoot() && 'needs root (network namespaces)', missing.length > 0 && `missing: ${missing.join(' ')}`);
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const targets = [target4, target6] as const;
const marked = childEnv({ LIBPACKETMARK_MARK: '0x1', LIBPACKETMARK_STRICT: '1' });
const unmarked = childEnv({}, false);

let topo: Topology | undefined;
t.before(async () => {
  topo = await buildTopology(t);
});
const topology = (): Topology => {
  if (!topo) throw new Error('topology not built');
  return topo;
};
const url = (target: string) => (target.includes(':') ? `http://[${target}]:8080/` : `http://${target}:8080/`);

t.test('markprobe: a marked datagram reaches the table-1 peer, an unmarked one the main-table peer', async (t) => {
  for (const target of targets) {
    const on = runInClient(topology(), marked, markprobe, ['send-udp', target, '7000']);
    t.equal(on.stdout, 'send-udp mark=0x1 sent=9\n', `${target}: sent with mark 0x1`);
    t.same([on.a.udp7000, on.b.udp7000], [0, 1], `${target}: under the library, B (table 1) counted it, A nothing`);
    const off = runInClient(topology(), unmarked, markprobe, ['send-udp', target, '7000']);
    t.same([off.a.udp7000, off.b.udp7000], [1, 0], `${target}: without it, A (main) counted it, B nothing`);
  }
});

t.test('dig asks the table-1 peer under the library, the main-table peer without', async (t) => {
  for (const target of targets) {
    for (const type of ['A', 'AAAA'] as const) {
      const args = [`@${target}`, 'example.test', type, '+short', '+tries=1', '+time=3'];
      const want = type === 'A' ? 0 : 1;
      const on = runInClient(topology(), marked, 'dig', args);
      t.equal(on.stdout.trim(), answers.b[want], `${target} ${type}: peer B answered`);
      t.same([on.a.udp53, on.b.udp53], [0, 1]);
      const off = runInClient(topology(), unmarked, 'dig', args);
      t.equal(off.stdout.trim(), answers.a[want], `${target} ${type}: peer A answered`);
      t.same([off.a.udp53, off.b.udp53], [1, 0]);
    }
    const tcp = runInClient(topology(), marked, 'dig', [`@${target}`, 'example.test', 'A', '+short', '+tcp', '+tries=1', '+time=3']);
    t.equal(tcp.stdout.trim(), answers.b[0], `${target}: dig +tcp under the library also reaches B`);
    t.same([tcp.a.tcp53, tcp.b.tcp53], [0, 1]);
  }
});

t.test('curl connects through table 1 under the library', async (t) => {
  for (const target of targets) {
    const on = runInClient(topology(), marked, 'curl', ['-sS', '--max-time', '5', url(target)]);
    t.equal(on.stdout, 'peer-b', `${target}: curl under the library got peer B`);
    t.same([on.a.tcp8080, on.b.tcp8080], [0, 1]);
    const off = runInClient(topology(), unmarked, 'curl', ['-sS', '--max-time', '5', url(target)]);
    t.equal(off.stdout, 'peer-a', `${target}: without it, peer A`);
    t.same([off.a.tcp8080, off.b.tcp8080], [1, 0]);
  }
});

const pythonClient = `
import socket, sys
host = sys.argv[1]
family = socket.AF_INET6 if ':' in host else socket.AF_INET
u = socket.socket(family, socket.SOCK_DGRAM)
u.settimeout(5)
u.sendto(b'who', (host, 7000))
udp = u.recv(100).decode()
s = socket.socket(family, socket.SOCK_STREAM)
s.settimeout(5)
s.connect((host, 8080))
s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')
tcp = b''
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    tcp += chunk
mark = s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK)
print('udp=%s tcp=%s mark=%#x' % (udp, tcp.decode().split('\\r\\n\\r\\n', 1)[1], mark))
`;

t.test('Python socket: UDP and TCP go through table 1 under the library', async (t) => {
  for (const target of targets) {
    const on = runInClient(topology(), marked, python, ['-c', pythonClient, target]);
    t.equal(on.stdout, 'udp=peer-b tcp=peer-b mark=0x1\n', `${target}: Python under the library reached B, its socket reads mark 0x1`);
    t.same([on.b.udp7000, on.b.tcp8080, on.a.udp7000, on.a.tcp8080], [1, 1, 0, 0]);
    const off = runInClient(topology(), unmarked, python, ['-c', pythonClient, target]);
    t.equal(off.stdout, 'udp=peer-a tcp=peer-a mark=0x0\n', `${target}: without the library, peer A, mark 0`);
    t.same([off.a.udp7000, off.a.tcp8080, off.b.udp7000, off.b.tcp8080], [1, 1, 0, 0]);
  }
});

t.test('Node: a dgram socket and a net socket are marked (libuv uses SOCK_NONBLOCK|SOCK_CLOEXEC)', async (t) => {
  const client = new URL('./fixtures/client.mjs', import.meta.url).pathname;
  for (const target of targets) {
    const on = runInClient(topology(), marked, process.execPath, [client, target]);
    t.equal(on.stdout, 'udp=peer-b tcp=peer-b\n', `${target}: node under the library reached B`);
    t.same([on.b.udp7000, on.b.tcp8080, on.a.udp7000, on.a.tcp8080], [1, 1, 0, 0]);
    const off = runInClient(topology(), unmarked, process.execPath, [client, target]);
    t.equal(off.stdout, 'udp=peer-a tcp=peer-a\n', `${target}: node without it reached A`);
    t.same([off.a.udp7000, off.a.tcp8080, off.b.udp7000, off.b.tcp8080], [1, 1, 0, 0]);
  }
});

t.test('gluon #3613 in small: without CAP_NET_ADMIN the default leaks to main (loudly), strict mode sends nothing', async (t) => {
  const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];
  for (const target of targets) {
    const soft = runInClient(topology(), childEnv({ LIBPACKETMARK_MARK: '0x1' }), 'setpriv', [
      ...nobody,
      markprobe,
      'send-udp',
      target,
      '7000',
    ]);
    t.equal(soft.stdout, 'send-udp mark=0x0 sent=9\n', `${target}: sent unmarked`);
    t.same([soft.a.udp7000, soft.b.udp7000], [1, 0], `${target}: the datagram took the main table, as in #3613`);
    t.match(soft.stderr, /^libpacketmark: cannot set SO_MARK 0x1: Operation not permitted/m, 'but not silently');
    const strict = runInClient(topology(), marked, 'setpriv', [...nobody, markprobe, 'send-udp', target, '7000']);
    t.equal(strict.stdout, 'send-udp fd=-1 errno=EPERM\n', `${target}: strict: socket() failed`);
    t.same([strict.a.udp7000, strict.b.udp7000], [0, 0], `${target}: strict: no packet reached either peer`);
  }
});
