// tier: root: network namespaces, SO_MARK or firewall rules
// The mark read back with getsockopt(SO_MARK) by markprobe, for each family and type and for each way of writing a
// value; bad values warn once and mark nothing. Needs no privileges beyond root's CAP_NET_ADMIN.
import t from 'tap';
import { childEnv, library, markprobe, parseProbes, probe, runWith, warnings } from './lib/probe.js';

const inetSpecs = ['inet:udp', 'inet:tcp', 'inet6:udp', 'inet6:tcp', 'inet:udp:nb', 'inet6:tcp:nb'];

t.test('IPv4 and IPv6, UDP and TCP, plain and SOCK_NONBLOCK|SOCK_CLOEXEC, are marked', async (t) => {
  for (const [text, value] of [
    ['1', 1],
    ['0x1', 1],
    ['0X10', 0x10],
    ['010', 8],
    ['4294967295', 0xffffffff],
    ['0xffffffff', 0xffffffff],
    ['0', 0],
  ] as const) {
    const r = probe(childEnv({ LIBPACKETMARK_MARK: text }), inetSpecs);
    t.equal(r.status, 0, `${text}: exit 0`);
    t.same(warnings(r.stderr), [], `${text}: no warning`);
    t.same(
      r.probes.map((p) => [p.spec, p.mark]),
      inetSpecs.map((s) => [s, value]),
      `LIBPACKETMARK_MARK=${text} marks with 0x${value.toString(16)}`,
    );
  }
});

t.test('without the library nothing is marked (the helper reads the kernel, not the environment)', async (t) => {
  const r = probe(childEnv({ LIBPACKETMARK_MARK: '0x1' }, false), inetSpecs);
  t.same(
    r.probes.map((p) => p.mark),
    inetSpecs.map(() => 0),
  );
});

t.test('AF_UNIX sockets are left alone, even in strict mode with a bad mark', async (t) => {
  const specs = ['unix:stream', 'unix:dgram', 'unix:stream:nb'];
  const marked = probe(childEnv({ LIBPACKETMARK_MARK: '0x1' }), specs);
  t.same(
    marked.probes.map((p) => [p.fd >= 0, p.mark]),
    specs.map(() => [true, 0]),
  );
  const strict = probe(childEnv({ LIBPACKETMARK_MARK: 'banana', LIBPACKETMARK_STRICT: '1' }), specs);
  t.same(
    strict.probes.map((p) => p.fd >= 0),
    specs.map(() => true),
  );
  t.same(warnings(strict.stderr), [], 'no warning: no IPv4/IPv6 socket was asked for');
});

t.test('errno is what the caller had before a successful socket()', async (t) => {
  // markprobe sets errno = EDOM before each call; on success it must still read EDOM, whether or not setsockopt ran.
  for (const env of [
    childEnv({ LIBPACKETMARK_MARK: '0x1' }),
    childEnv({ LIBPACKETMARK_MARK: 'banana' }),
    childEnv({}, true),
    childEnv({ LIBPACKETMARK_MARK: '0x1' }, false),
  ]) {
    const r = probe(env, [...inetSpecs, 'unix:stream']);
    t.same(
      r.probes.map((p) => p.errno),
      [...inetSpecs, 'unix:stream'].map(() => 'EDOM'),
      `errno kept with ${JSON.stringify(env.LIBPACKETMARK_MARK)}`,
    );
  }
});

t.test('invalid values: one warning line per process, no mark', async (t) => {
  for (const [text, shown] of [
    ['banana', 'banana'],
    ['', ''],
    ['-1', '-1'],
    ['+1', '+1'],
    [' 1', ' 1'],
    ['1 ', '1 '],
    ['0x', '0x'],
    ['08', '08'],
    ['0x1/0x1', '0x1/0x1'],
    ['4294967296', '4294967296'],
    ['0x100000000', '0x100000000'],
    ['99999999999999999999999', '99999999999999999999999'],
    ['%s%n%x', '%s%n%x'],
    ["it's\n", 'it\\x27s\\x0a'],
  ] as const) {
    const r = probe(childEnv({ LIBPACKETMARK_MARK: text }), inetSpecs);
    t.equal(r.status, 0);
    t.same(
      r.probes.map((p) => [p.fd >= 0, p.mark]),
      inetSpecs.map(() => [true, 0]),
      `${JSON.stringify(text)}: sockets open, unmarked`,
    );
    t.same(
      warnings(r.stderr),
      [`libpacketmark: invalid LIBPACKETMARK_MARK='${shown}', sockets are not marked`],
      `${JSON.stringify(text)}: exactly one warning for ${inetSpecs.length} sockets`,
    );
  }
  const long = probe(childEnv({ LIBPACKETMARK_MARK: 'x'.repeat(5000) }), ['inet:udp']);
  const [line] = warnings(long.stderr);
  t.ok(line !== undefined && line.length < 200 && line.includes("xxx...'"), 'a huge value is cut short, still one line');
});

t.test('unset LIBPACKETMARK_MARK warns once and marks nothing', async (t) => {
  const r = probe(childEnv({}), inetSpecs);
  t.same(warnings(r.stderr), ['libpacketmark: LIBPACKETMARK_MARK is not set, sockets are not marked']);
  t.same(
    r.probes.map((p) => p.mark),
    inetSpecs.map(() => 0),
  );
});

t.test('strict mode with a bad or missing mark fails IPv4/IPv6 sockets with EPERM', async (t) => {
  const r = probe(childEnv({ LIBPACKETMARK_MARK: '0xg', LIBPACKETMARK_STRICT: '1' }), [...inetSpecs, 'unix:stream']);
  t.same(
    r.probes.map((p) => [p.fd, p.errno]),
    [...inetSpecs.map(() => [-1, 'EPERM']), [r.probes.at(-1)?.fd, 'EDOM']],
  );
  t.same(warnings(r.stderr), [
    "libpacketmark: invalid LIBPACKETMARK_MARK='0xg', IPv4 and IPv6 sockets fail with EPERM (LIBPACKETMARK_STRICT=1)",
  ]);
  const unset = probe(childEnv({ LIBPACKETMARK_STRICT: '1' }), ['inet:udp']);
  t.same(
    unset.probes.map((p) => p.errno),
    ['EPERM'],
  );
  t.same(warnings(unset.stderr), [
    'libpacketmark: LIBPACKETMARK_MARK is not set, IPv4 and IPv6 sockets fail with EPERM (LIBPACKETMARK_STRICT=1)',
  ]);
});

t.test('LIBPACKETMARK_STRICT: 0 and empty are off, 1 is on, anything else warns and is on', async (t) => {
  for (const value of ['0', '']) {
    const r = probe(childEnv({ LIBPACKETMARK_MARK: 'bad', LIBPACKETMARK_STRICT: value }), ['inet:udp']);
    t.equal(r.probes[0]?.fd !== undefined && r.probes[0].fd >= 0, true, `STRICT=${JSON.stringify(value)} is off`);
  }
  const r = probe(childEnv({ LIBPACKETMARK_MARK: '0x1', LIBPACKETMARK_STRICT: 'yes' }), ['inet:udp', 'inet:tcp']);
  t.same(
    r.probes.map((p) => p.mark),
    [1, 1],
    'a good mark still marks',
  );
  t.same(warnings(r.stderr), ["libpacketmark: invalid LIBPACKETMARK_STRICT='yes' (expected 1 or 0), strict mode is on"]);
  const bad = probe(childEnv({ LIBPACKETMARK_MARK: 'x', LIBPACKETMARK_STRICT: 'true' }), ['inet:udp']);
  t.same(
    bad.probes.map((p) => p.errno),
    ['EPERM'],
    'and a bad mark then fails closed',
  );
});

t.test('threads racing on the first socket() all get the mark', async (t) => {
  for (let round = 0; round < 5; round++) {
    const r = runWith(childEnv({ LIBPACKETMARK_MARK: '0x2a' }), markprobe, ['threads', '64']);
    t.equal(r.stdout, 'threads 64 fds=64 marks=0x2a\n');
  }
  const r = runWith(childEnv({ LIBPACKETMARK_MARK: 'nope' }), markprobe, ['threads', '64']);
  t.equal(warnings(r.stderr).length, 1, 'one warning for 64 racing threads');
});

t.test('the library exports socket() and nothing else', async (t) => {
  const r = runWith(childEnv({}, false), 'nm', ['-D', '--defined-only', library]);
  t.same(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' ').slice(1).join(' ')),
    ['T socket'],
  );
});

t.test('the environment is read at load time: a program that clears it before its first socket() is still marked', async (t) => {
  const r = runWith(childEnv({ LIBPACKETMARK_MARK: '0x3' }), markprobe, ['clearenv', 'inet:udp', 'inet6:tcp']);
  t.same(
    parseProbes(r.stdout).map((p) => p.mark),
    [3, 3],
  );
  t.same(warnings(r.stderr), []);
});

t.test('bench mode of the helper reports the setsockopt cost (smoke run, no timing asserted)', async (t) => {
  const r = runWith(childEnv({ LIBPACKETMARK_MARK: '1' }), markprobe, ['bench', '50']);
  t.match(r.stdout, /^bench n=50 inet_udp_ns=[\d.]+ inet6_tcp_ns=[\d.]+ unix_ns=[\d.]+ setsockopt_mark_ns=[\d.]+\n$/);
});
