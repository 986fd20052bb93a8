// tier: root: network namespaces, SO_MARK or firewall rules
// The same library built with musl-gcc (OpenWrt's libc is musl): marks, warnings, strict mode, threads, and the
// resolver gap, which musl shares: its res_msend calls socket() inside libc.so, where no LD_PRELOAD reaches.
// A musl library cannot be preloaded into glibc programs (setpriv, strace), so those run `env` to set LD_PRELOAD
// for the musl program only.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { commandExists, createNamespace, isRoot } from '../../test/lib/netns.js';
import { requireParts } from '../../test/lib/require.js';
import { childEnv, libDir, parseProbes, runWith, warnings } from './lib/probe.js';

requireParts(
  !commandExists('musl-gcc') && 'musl-gcc (Debian musl-tools) is missing',
  !isRoot() && 'needs root (setpriv to nobody, a network namespace)',
  !commandExists('strace') && 'strace is missing',
);
const library = `${libDir}build/musl/libpacketmark.so`;
const markprobe = `${libDir}build/musl/markprobe`;
const built = spawnSync('make', ['-s', '-C', libDir, 'musl'], { encoding: 'utf8' });
if (built.status !== 0) throw new Error(`make musl failed: ${built.stderr}`);
const muslEnv = (extra: Record<string, string>) => ({ ...childEnv(extra, false), LD_PRELOAD: library });
/** `env -i VAR=... markprobe ARGS`: LD_PRELOAD reaches only the musl program, not the glibc wrapper before it. */
const viaEnv = (extra: Record<string, string>, args: string[]) => [
  '/usr/bin/env',
  '-i',
  ...Object.entries({ PATH: '/usr/bin:/bin', LD_PRELOAD: library, ...extra }).map(([k, v]) => `${k}=${v}`),
  markprobe,
  ...args,
];

t.test('musl: IPv4/IPv6 UDP/TCP marked, AF_UNIX untouched, errno kept', async (t) => {
  const specs = ['inet:udp', 'inet:tcp', 'inet6:udp', 'inet6:tcp:nb', 'unix:stream'];
  const r = runWith(muslEnv({ LIBPACKETMARK_MARK: '0x10' }), markprobe, specs);
  t.same(
    parseProbes(r.stdout).map((p) => [p.mark, p.errno]),
    [
      [16, 'EDOM'],
      [16, 'EDOM'],
      [16, 'EDOM'],
      [16, 'EDOM'],
      [0, 'EDOM'],
    ],
  );
  const bad = runWith(muslEnv({ LIBPACKETMARK_MARK: '0x1g' }), markprobe, ['inet:udp', 'inet6:udp']);
  t.same(warnings(bad.stderr), ["libpacketmark: invalid LIBPACKETMARK_MARK='0x1g', sockets are not marked"]);
  t.same(
    parseProbes(bad.stdout).map((p) => p.mark),
    [0, 0],
  );
  const threads = runWith(muslEnv({ LIBPACKETMARK_MARK: '7' }), markprobe, ['threads', '64']);
  t.equal(threads.stdout, 'threads 64 fds=64 marks=0x7\n');
});

t.test('musl: as nobody, a warning by default and EPERM in strict mode', async (t) => {
  const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];
  const [cmd = 'setpriv', ...args] = [...nobody, ...viaEnv({ LIBPACKETMARK_MARK: '1' }, ['inet:udp'])];
  const soft = runWith(childEnv({}, false), cmd, args);
  t.same(
    parseProbes(soft.stdout).map((p) => [p.fd >= 0, p.mark]),
    [[true, 0]],
  );
  t.equal(warnings(soft.stderr).length, 1);
  const [cmd2 = 'setpriv', ...args2] = [
    ...nobody,
    ...viaEnv({ LIBPACKETMARK_MARK: '1', LIBPACKETMARK_STRICT: '1' }, ['inet6:tcp', 'unix:dgram']),
  ];
  const strict = runWith(childEnv({}, false), cmd2, args2);
  t.same(
    parseProbes(strict.stdout).map((p) => [p.fd, p.errno]),
    [
      [-1, 'EPERM'],
      [3, 'EDOM'],
    ],
  );
});

t.test('musl: the resolver socket is not seen either (strace)', async (t) => {
  // A namespace whose only nameserver is an address on its own loopback: the query goes nowhere else.
  const ns = createNamespace(t, 'pmm');
  ns.ip('addr', 'add', '203.0.113.1/32', 'dev', 'lo');
  const dir = `/etc/netns/${ns.name}`;
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
    spawnSync('rmdir', ['/etc/netns'], { stdio: 'ignore' });
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/resolv.conf`, 'nameserver 203.0.113.1\noptions timeout:1 attempts:1\n');
  const trace = (args: string[]) =>
    spawnSync(
      'ip',
      [
        'netns',
        'exec',
        ns.name,
        'strace',
        '-f',
        '-qq',
        '-e',
        'trace=socket,setsockopt',
        '-e',
        'signal=none',
        ...viaEnv({ LIBPACKETMARK_MARK: '1' }, args),
      ],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    ).stderr;
  const resolve = trace(['resolve', 'example.test']);
  t.match(resolve, /socket\(AF_INET6?, SOCK_DGRAM/, "musl's getaddrinfo opened a UDP socket");
  t.notMatch(resolve, /SO_MARK/, 'with no SO_MARK');
  t.match(trace(['inet:udp']), /setsockopt\(\d+, SOL_SOCKET, SO_MARK, \[1\], 4\) = 0/, 'an explicit socket() is marked');
});
