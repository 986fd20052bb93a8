// tier: root: network namespaces, SO_MARK or firewall rules
// SO_MARK needs CAP_NET_ADMIN (or CAP_NET_RAW since Linux 5.17). Gluon's library dropped the setsockopt error, so
// an unprivileged process sent unmarked packets through the main table (gluon #3613). Here it warns, and
// LIBPACKETMARK_STRICT=1 makes socket() fail instead. Runs the probe as nobody via setpriv, with no capabilities.
import { release } from 'node:os';
import t from 'tap';
import { commandExists, isRoot } from '../../test/lib/netns.js';
import { requireParts } from '../../test/lib/require.js';
import { childEnv, markprobe, parseProbes, probe, runWith, warnings } from './lib/probe.js';

const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];
const specs = ['inet:udp', 'inet:tcp', 'inet6:udp', 'inet6:tcp:nb'];
requireParts(!isRoot() && 'needs root to switch to an unprivileged user', !commandExists('setpriv') && 'setpriv (util-linux) is missing');

t.test('without CAP_NET_ADMIN the default warns once and leaves sockets open but unmarked', async (t) => {
  const r = probe(childEnv({ LIBPACKETMARK_MARK: '0x1' }), [...specs, 'unix:stream'], nobody);
  t.equal(r.status, 0, 'exit 0');
  t.same(
    r.probes.map((p) => [p.fd >= 0, p.mark, p.errno]),
    [...specs, 'unix:stream'].map(() => [true, 0, 'EDOM']),
    'open, unmarked, errno untouched',
  );
  t.same(warnings(r.stderr), [
    'libpacketmark: cannot set SO_MARK 0x1: Operation not permitted (needs CAP_NET_ADMIN or CAP_NET_RAW), sockets are not marked',
  ]);
});

t.test('strict mode: socket() fails with EPERM, closes the new fd, and AF_UNIX still works', async (t) => {
  const r = probe(childEnv({ LIBPACKETMARK_MARK: '0x1', LIBPACKETMARK_STRICT: '1' }), [...specs, 'unix:stream'], nobody);
  t.equal(r.status, 0, 'exit 0');
  t.same(
    r.probes.slice(0, specs.length).map((p) => [p.fd, p.errno]),
    specs.map(() => [-1, 'EPERM']),
  );
  // fds 0-2 are stdio: the unix socket getting fd 3 shows that each refused socket was closed, not leaked.
  t.same(r.probes.at(-1), { spec: 'unix:stream', fd: 3, mark: 0, errno: 'EDOM' });
  t.same(warnings(r.stderr), [
    'libpacketmark: cannot set SO_MARK 0x1: Operation not permitted (needs CAP_NET_ADMIN or CAP_NET_RAW), IPv4 and IPv6 sockets fail with EPERM (LIBPACKETMARK_STRICT=1)',
  ]);
});

const [major = 0, minor = 0] = release().split('.').map(Number);
requireParts((major < 5 || (major === 5 && minor < 17)) && `CAP_NET_RAW allows SO_MARK from Linux 5.17; this is ${release()}`);

t.test('the same user with only CAP_NET_RAW (ambient) marks, as Linux 5.17+ allows', async (t) => {
  const raw = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all,+net_raw', '--ambient-caps=+net_raw'];
  const r = probe(childEnv({ LIBPACKETMARK_MARK: '0x1', LIBPACKETMARK_STRICT: '1' }), specs, raw);
  t.same(
    r.probes.map((p) => p.mark),
    specs.map(() => 1),
  );
  t.same(warnings(r.stderr), []);
});

t.test('root with CAP_NET_ADMIN and CAP_NET_RAW dropped is refused like nobody', async (t) => {
  const drop = ['setpriv', '--inh-caps=-all', '--bounding-set=-net_admin,-net_raw'];
  const r = probe(childEnv({ LIBPACKETMARK_MARK: '7', LIBPACKETMARK_STRICT: '1' }), ['inet6:udp'], drop);
  t.same(
    r.probes.map((p) => p.errno),
    ['EPERM'],
  );
  t.equal(warnings(r.stderr).length, 1);
});

t.test('stderr closed: the warning never goes into the new socket, and writing it cannot kill with SIGPIPE', async (t) => {
  // With fd 2 closed the first socket becomes fd 2. Writing the warning there (an unconnected TCP socket) would raise
  // SIGPIPE and kill the program (exit 141); the library skips its own new fd, and blocks and consumes SIGPIPE when it
  // writes to a fd 2 it does not own (the second socket's warning goes to the first, still unconnected).
  const r = runWith(childEnv({ LIBPACKETMARK_MARK: '0x1' }), nobody[0] ?? 'setpriv', [
    ...nobody.slice(1),
    'sh',
    '-c',
    `exec 2>&-; exec ${markprobe} inet:tcp inet6:tcp inet:udp`,
  ]);
  t.equal(r.status, 0, 'markprobe exited normally');
  t.same(
    parseProbes(r.stdout).map((p) => [p.fd, p.mark, p.errno]),
    [
      [2, 0, 'EDOM'],
      [3, 0, 'EDOM'],
      [4, 0, 'EDOM'],
    ],
  );
});
