// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The CLI as the router runs it: bundled for QuickJS by mk/bundle.mjs and run by meshwan-js here and, for
 * big-endian MIPS (ath79), under qemu-user, inside a namespace with a few hundred routes and some rules. Its
 * output must equal the Node build's and iproute2's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { bundle, fixture, norm, root } from './helpers.js';

t.test('routes and rules dumped on meshwan-js (host and mips_24kc under qemu) equal Node and iproute2', async (t) => {
  const { ns } = fixture(t, 'qjs');
  const dir = mkdtempSync(join(tmpdir(), 'meshwan-nl-qjs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // a few hundred routes in several tables, of both families, and rules of every kind the CLI prints
  const batch: string[] = [];
  for (let i = 0; i < 200; i++) batch.push(`route add 198.51.${100 + (i >> 8)}.${i & 0xff}/32 via 192.0.2.2 table ${1 + (i % 3)}`);
  for (let i = 0; i < 200; i++)
    batch.push(`route add 2001:db8:${(i + 16).toString(16)}::/48 via 2001:db8::2 metric ${i % 7} table ${i % 2 ? 'main' : '1000'}`);
  batch.push('route add prohibit 203.0.113.0/24', 'rule add priority 10 iif lo goto 32766', 'rule add priority 11 fwmark 0x4 blackhole');
  const ip = spawnSync('ip', ['-n', ns.name, '-batch', '-'], { input: `${batch.join('\n')}\n`, encoding: 'utf8' });
  t.equal(ip.status, 0, ip.stderr);
  ns.ip('-6', 'route', 'add', 'unreachable', 'default', 'table', '1', 'metric', '65535');
  ns.ip('-6', 'rule', 'add', 'priority', '100', 'fwmark', '0x1/0x1', 'table', '1');
  ns.ip('-6', 'rule', 'add', 'priority', '200', 'not', 'to', '2001:db8:1::/48', 'table', '1000', 'suppress_prefixlength', '0');
  const engines = {
    node: [process.execPath],
    host: [join(root, 'build/host/meshwan-js')],
    mips_24kc: ['qemu-mips-static', '-L', '/usr/mips-linux-gnu', join(root, 'build/mips_24kc/meshwan-js')],
  } as const;
  const bundles = { node: await bundle('node', dir), quickjs: await bundle('quickjs', dir) };
  const dumps = {
    node: await bundle('node', dir, 'test/fixtures/dump.ts'),
    quickjs: await bundle('quickjs', dir, 'test/fixtures/dump.ts'),
  };
  // The whole process runs in the namespace (qemu-user cannot setns for its guest), as `ip netns exec` does.
  const run = (runtime: keyof typeof engines, file: string, args: readonly string[]) =>
    spawnSync('ip', ['netns', 'exec', ns.name, ...engines[runtime], file, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

  // The library on every engine: the same routes and rules, decoded from host-order messages (big-endian on mips).
  // Link-local routes come and go as the veth pair's addresses appear, so they are left out of the comparison.
  const settled = (json: string) =>
    JSON.stringify((JSON.parse(json) as { dst?: string }[]).filter((r) => !/^f[ef][0-9a-f]{2}:/.test(r.dst ?? '')));
  const ipRoutes = ['-4', '-6'].flatMap((f) =>
    norm(spawnSync('ip', ['-n', ns.name, f, 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout)
      .split('\n')
      .filter((l) => !/^(\w+ )?f[ef][0-9a-f]{2}:/.test(l)),
  );
  for (const what of ['routes', 'rules'] as const) {
    const library = run('node', dumps.node, [what]);
    t.equal(library.status, 0, library.stderr);
    const seen = settled(library.stdout);
    const count = (JSON.parse(seen) as unknown[]).length;
    if (what === 'routes') t.equal(count, ipRoutes.length, `${count} routes: as many as ip route show table all lists`);
    else t.ok(count >= 8, `${count} rules`);
    for (const runtime of ['host', 'mips_24kc'] as const) {
      const r = run(runtime, dumps.quickjs, [what]);
      if (runtime === 'mips_24kc' && what === 'rules') {
        // qemu-user translates link, address and route messages only: a rule dump is refused (README of @meshwan/os).
        t.match(r.stderr, /listRules inet: EOPNOTSUPP/, 'mips_24kc: qemu-user refuses RTM_GETRULE');
        continue;
      }
      t.equal(r.status, 0, `${runtime}: the library's ${what} exit 0 (${r.stderr})`);
      t.equal(settled(r.stdout), seen, `${runtime}: the library's ${what} equal Node's`);
    }
  }

  // The CLI: its text equals Node's and iproute2's. Under qemu-user 7.2 it cannot start (README of @meshwan/os):
  // qemu leaves the last attribute of a message unswapped when it is empty, and RTM_NEWLINK ends with one.
  for (const [args, witness] of [
    [
      ['routes', '--table', 'all', '-4'],
      ['-4', 'route', 'show', 'table', 'all'],
    ],
    [
      ['routes', '--table', 'all', '-6'],
      ['-6', 'route', 'show', 'table', 'all'],
    ],
    [
      ['rules', '-4'],
      ['-4', 'rule'],
    ],
    [
      ['rules', '-6'],
      ['-6', 'rule'],
    ],
  ] as const) {
    const want = spawnSync('ip', ['-n', ns.name, ...witness], { encoding: 'utf8' }).stdout;
    t.ok(want.split('\n').length > (args[0] === 'routes' ? 100 : 3), `${witness.join(' ')} has what was added`);
    for (const runtime of ['node', 'host'] as const) {
      const r = run(runtime, runtime === 'node' ? bundles.node : bundles.quickjs, args);
      t.equal(r.status, 0, `${runtime} ${args.join(' ')} exits 0 (${r.stderr})`);
      t.equal(norm(r.stdout), norm(want), `${runtime} ${args.join(' ')} equals ip ${witness.join(' ')}`);
    }
    const mips = run('mips_24kc', bundles.quickjs, args);
    t.not(mips.status, 0, `mips_24kc ${args.join(' ')}: qemu's unswapped empty last attribute stops the link dump`);
    t.match(mips.stderr, /DecodeError: netlink decode at offset \d+: attribute type 384 length 1024 outside 4\.\.4/);
  }
});
