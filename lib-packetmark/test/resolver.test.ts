// tier: root: network namespaces, SO_MARK or firewall rules
// What an LD_PRELOAD of socket() cannot see: glibc's resolver. getaddrinfo() -> res_send opens its sockets to the
// nameserver with glibc's internal __socket (resolv/res_send.c), inside libc.so and not through the PLT, so the
// library never runs for them. Shown two ways, with the same resolv.conf and the same library loaded:
//  - routing: dig's query (bind9 calls socket() itself) reaches the table-1 peer, getaddrinfo's reaches main;
//  - strace: getaddrinfo's socket(AF_INET, ...) syscall is never followed by setsockopt(SO_MARK).
// `ip netns exec` bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf for the namespace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { commandExists, isRoot } from '../../test/lib/netns.js';
import { requireParts } from '../../test/lib/require.js';
import { childEnv, markprobe } from './lib/probe.js';
import { answers, buildTopology, runInClient, type Topology, target4 } from './lib/topo.js';

const missing = ['dig', 'dnsmasq', 'nft', 'ss', 'strace'].filter((c) => !commandExists(c));
requireParts(!isRoot() && 'needs root (network namespaces)', missing.length > 0 && `missing: ${missing.join(' ')}`);
const marked = childEnv({ LIBPACKETMARK_MARK: '0x1' });

let topo: Topology | undefined;
t.before(async () => {
  topo = await buildTopology(t);
  const dir = `/etc/netns/${topo.client.name}`;
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
    // /etc/netns itself only if empty: other runs' namespaces may use it (rmdir refuses a non-empty directory).
    spawnSync('rmdir', ['/etc/netns'], { stdio: 'ignore' });
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/resolv.conf`, `nameserver ${target4}\noptions timeout:3 attempts:1\n`);
});
const topology = (): Topology => {
  if (!topo) throw new Error('topology not built');
  return topo;
};

t.test('same resolv.conf, same library: dig is routed by table 1, getaddrinfo() by main', async (t) => {
  const dig = runInClient(topology(), marked, 'dig', ['example.test', 'A', '+short', '+tries=1']);
  t.equal(dig.stdout.trim(), answers.b[0], 'dig (its own socket() call) asked peer B, through table 1');
  t.same([dig.a.udp53, dig.b.udp53], [0, 1]);

  const gai = runInClient(topology(), marked, markprobe, ['resolve', 'example.test']);
  // The order is getaddrinfo's RFC 6724 sorting (another internal, unmarked socket); only the set matters here.
  t.same(
    gai.stdout.trim().split(' ').slice(1).sort(),
    [...answers.a].sort(),
    "getaddrinfo()'s queries were answered by peer A: unmarked, main table",
  );
  t.ok(gai.a.udp53 >= 1, 'peer A counted the A/AAAA queries');
  t.equal(gai.b.udp53, 0, 'peer B saw none');

  const py = runInClient(topology(), marked, '/usr/bin/python3', [
    '-c',
    "import socket; print(sorted({a[4][0] for a in socket.getaddrinfo('example.test', 80, proto=socket.IPPROTO_TCP)}))",
  ]);
  t.equal(py.stdout, `['${answers.a[0]}', '${answers.a[1]}']\n`, "Python's socket.getaddrinfo goes the same unmarked way");
  t.equal(py.b.udp53, 0);
});

t.test('strace: the resolver socket is opened without a setsockopt(SO_MARK), an explicit socket() with one', async (t) => {
  const traced = (args: string[]) =>
    runInClient(topology(), marked, 'strace', ['-f', '-qq', '-e', 'trace=socket,setsockopt', '-e', 'signal=none', markprobe, ...args])
      .stderr;
  const resolve = traced(['resolve', 'example.test']);
  const sockets = resolve.split('\n').filter((l) => /socket\(AF_INET6?, SOCK_DGRAM/.test(l));
  t.ok(sockets.length >= 1, `getaddrinfo opened an AF_INET socket: ${sockets[0] ?? 'none'}`);
  t.notMatch(resolve, /SO_MARK/, 'and nothing set SO_MARK on it');
  const explicit = traced(['inet:udp']);
  t.match(explicit, /setsockopt\(\d+, SOL_SOCKET, SO_MARK, \[1\], 4\) = 0/, 'an explicit socket() call is marked');
});
