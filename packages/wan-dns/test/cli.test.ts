// tier: root: network namespaces, SO_MARK or firewall rules
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConfig } from '@meshwan/uci';
import t from 'tap';
import { isRoot, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { controlPath, daemonOptions, FlagError, parseArgs, parseNumber, runCli } from '../src/cli.js';
import { checkGroup } from '../src/daemon.js';
import { stderrLogger } from '../src/log.js';
import { formatStatus } from '../src/stats.js';
import { deadPort } from './lib/client.js';
import { startDaemon, v4 } from './lib/daemon.js';
import { bin, spawnWanDns } from './lib/process.js';

const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

/** A root whose uci holds `files` (ROOT/etc/config/NAME). */
function rootWith(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'wan-dns-root-'));
  mkdirSync(join(root, 'etc/config'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, 'etc/config', name), text);
  return root;
}

// Each run of the command starts a Node process: slow on a busy machine.
t.setTimeout(600_000);

requireParts(!isRoot() && 'needs root (SO_MARK)');

t.test('flags: values, repeats, --flag=value, numbers in hex, octal and decimal', async (t) => {
  const a = parseArgs([
    '--listen',
    '127.0.0.1:5353',
    '--listen=[::1]:5353',
    '--server',
    '192.0.2.1',
    '--server',
    '[2001:db8::1]:5300',
    '--mark',
    '0x10',
    '--cache-size=150',
    '--allow-remote',
    '--pool-size',
    '64',
  ]);
  t.same(
    a.listen.map((e) => `${e.address}:${e.port}`),
    ['127.0.0.1:5353', '::1:5353'],
  );
  t.same(
    a.servers.map((e) => `${e.address}:${e.port}`),
    ['192.0.2.1:53', '2001:db8::1:5300'],
  );
  t.equal(a.mark, 16);
  t.equal(a.cacheSize, 150);
  t.equal(a.allowRemote, true);
  t.equal(parseNumber('--x', '010', 0, 100), 8);
  t.equal(parseArgs(['--listen', '127.0.0.1']).listen[0]?.port, 54, 'listen port defaults to 54');
  const cases: [string[], RegExp][] = [
    [['--mark', 'banana'], /^--mark: expected an unsigned number \(decimal, 0x hex or 0 octal\) 1\.\.4294967295, got "banana"$/],
    [['--mark', '0'], /^--mark: expected 1\.\.4294967295, got "0"$/],
    [['--mark', '-1'], /^--mark: expected an unsigned number .*, got a negative number$/],
    [['--cache-size'], /^--cache-size: needs a value$/],
    [['--server', 'nope'], /^--server: expected an IPv4 or IPv6 address/],
    [['--listen', '[fe80::1%lo]:54'], /^--listen: a listen address takes no %interface$/],
    [['--frobnicate'], /^--frobnicate: unknown flag$/],
    [['--max-inflight', '0'], /^--max-inflight: expected 1\.\.65536/],
  ];
  for (const [argv, message] of cases) {
    const err = t.throws(() => parseArgs(argv), message);
    t.ok(err instanceof FlagError, argv.join(' '));
  }
});

t.test('a bad flag exits 2 naming it; --help exits 0', async (t) => {
  const bad = run('--mark', 'banana');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /^wan-dns: --mark: expected an unsigned number .*, got "banana"\nusage: wan-dns/);
  const help = run('--help');
  t.equal(help.status, 0);
  t.match(help.stdout, /usage: wan-dns/);
  t.equal(await runCli(['--nope']), 2);
});

t.test('a bad config or resolv file exits 1 naming file:line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wan-dns-cli-'));
  const root = rootWith({ 'gluon-wan-dnsmasq': "config static\n\tlist server '192.0.2.1'\n\tlist server '192.0.2.300'\n" });
  const config = join(root, 'etc/config/gluon-wan-dnsmasq');
  const r1 = run('--root', root, '--resolv-file', join(dir, 'none'), '--listen', '127.0.0.1:1', '--control', join(dir, 'c'));
  t.equal(r1.status, 1);
  t.match(r1.stderr, new RegExp(`err: ${config}: static\\.server: "192\\.0\\.2\\.300": expected an IPv4 or IPv6 address`));
  const resolv = join(dir, 'resolv.conf');
  writeFileSync(resolv, 'nameserver 192.0.2.1\nnameserver fe80::1%\n');
  const r2 = run('--root', join(dir, 'none'), '--resolv-file', resolv, '--listen', '127.0.0.1:1', '--control', join(dir, 'c'));
  t.equal(r2.status, 1);
  t.match(r2.stderr, new RegExp(`err: ${resolv}:2: nameserver: `));
  const bad = rootWith({ network: "config rule6 'wan6_lookup'\n\toption mark 'one/0x1'\n\toption lookup '1'\n" });
  const r3 = run('--root', bad);
  t.equal(r3.status, 1);
  t.match(r3.stderr, /etc\/config\/network: wan6_lookup\.mark: expected a number/);
});

t.test('--status without a running daemon says so and exits 1', async (t) => {
  const r = run('--status', '--control', '/nonexistent/wan-dns.sock');
  t.equal(r.status, 1);
  t.match(r.stderr, /control socket \/nonexistent\/wan-dns\.sock: ENOENT \(is wan-dns running\?\)/);
  t.equal(await runCli(['--status', '--control', '/nonexistent/x.sock']), 1);
});

t.test('the daemon refuses to run in the mesh-VPN group', async (t) => {
  t.throws(() => checkGroup(800, [0, 800]), /group: running in the mesh-VPN group \(gid 800\)/);
  t.doesNotThrow(() => checkGroup(800, [0, 0]));
});

t.test("options come from the node's uci (staged changes included) unless flags say otherwise", async (t) => {
  const site = rootWith({
    network: "config rule6 'wan6_lookup'\n\toption mark '0x04/0x04'\n\toption lookup '1'\n",
    meshwan:
      "config wan_dns 'wan_dns'\n\toption cache_size '33'\n\tlist listen '127.0.0.1:5454'\n\nconfig mesh_vpn 'mesh_vpn'\n\toption gid '800'\n",
  });
  mkdirSync(join(site, 'tmp/.uci'), { recursive: true, mode: 0o700 });
  openConfig({ root: site }).set('meshwan', 'mesh_vpn', 'gid', '900'); // staged only: still what wan-dns reads
  const log = stderrLogger('t', () => {});
  const o = daemonOptions(parseArgs(['--root', site]), log);
  t.equal(o.mark, 4);
  t.equal(o.cacheSize, 33);
  t.equal(o.vpnGid, 900);
  t.same(o.listen, [v4('127.0.0.1', 5454)]);
  t.equal(o.controlPath, `${site}/var/run/wan-dns.sock`, 'the control socket under the root');
  const f = daemonOptions(parseArgs(['--root', site, '--mark', '0x1', '--cache-size', '0', '--control', '/tmp/x']), log);
  t.equal(f.mark, 1);
  t.equal(f.cacheSize, 0);
  t.equal(f.controlPath, '/tmp/x');
  t.same(o.tcp, { maxConnections: 64, maxPerClient: 16, initialTimeoutMs: 2000, idleTimeoutMs: 10_000, maxPipelined: 64 }, 'TCP defaults');
  const tcp = daemonOptions(
    parseArgs(['--root', site, '--max-tcp', '100', '--max-tcp-per-client', '4', '--tcp-initial-timeout', '1', '--tcp-idle-timeout=30']),
    log,
  ).tcp;
  t.same(tcp, { maxConnections: 100, maxPerClient: 4, initialTimeoutMs: 1000, idleTimeoutMs: 30_000, maxPipelined: 64 });
  t.throws(() => parseArgs(['--max-tcp-per-client', '0']), /--max-tcp-per-client: expected 1\.\.10000, got "0"/);
  t.throws(() => parseArgs(['--tcp-idle-timeout', '1.5']), /--tcp-idle-timeout: expected an unsigned number/);
});

t.test('SIGUSR1 logs the stats; --status prints them as text and JSON; SIGTERM exits 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wan-dns-cli-'));
  const control = join(dir, 'control');
  const port = await deadPort();
  const { child, output } = await spawnWanDns(t, ['--listen', `127.0.0.1:${port}`, '--server', '192.0.2.1', '--control', control]);
  t.match(output(), new RegExp(`^wan-dns\\[${child.pid}\\]: info: upstream servers from --server: 192\\.0\\.2\\.1:53\\n`));
  child.kill('SIGUSR1');
  await waitFor('stats in the log', () => /info: server 192\.0\.2\.1:53 up/.test(output()), 60_000);
  t.match(output(), /info: queries 0\n/);
  t.match(output(), /info: upstream-sockets 128\/128 marked\n/);
  const text = run('--status', '--control', control);
  t.equal(text.status, 0);
  t.match(text.stdout, /^pid \d+\nuptime \d+s\nmark 0x1\n/);
  t.match(text.stdout, /\nrefused-unmarked 0\n/);
  const json = JSON.parse(run('--status', '--json', '--control', control).stdout) as { pid: number; servers: { server: string }[] };
  t.equal(json.pid, child.pid);
  t.equal(json.servers[0]?.server, '192.0.2.1:53');
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.equal(await exited, 0);
});

t.test('a reload with a bad file keeps the old servers and says why', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wan-dns-cli-'));
  const resolvFile = join(dir, 'resolv.conf');
  writeFileSync(resolvFile, 'nameserver 192.0.2.1\n');
  const d = await startDaemon(t, { sources: { servers: [], root: join(dir, 'none'), resolvFile } });
  writeFileSync(resolvFile, 'nameserver 192.0.2.1\nnameserver bad\n');
  d.daemon.reload();
  t.same(
    d.daemon.upstreams.list().map((s) => s.key),
    ['192.0.2.1:53'],
  );
  t.match(d.lines.join(''), new RegExp(`err: reload: ${resolvFile}:2: nameserver: .*; keeping 1 servers`));
  t.equal(d.daemon.status().counters.reloadErrors, 1);
  writeFileSync(resolvFile, 'nameserver 192.0.2.2\n');
  await waitFor('the file watch to reload', () => d.daemon.upstreams.list()[0]?.key === '192.0.2.2:53', 60_000);
  d.daemon.logStatus();
  t.match(d.lines.join(''), /info: server 192\.0\.2\.2:53 up srtt - queries 0/);
  t.match(formatStatus(d.daemon.status()), /^upstreams from .*resolv\.conf$/m);
});

t.test('the control socket lives under --root unless --control names it', async (t) => {
  t.equal(controlPath({}), '/var/run/wan-dns.sock');
  t.equal(controlPath({ root: '/' }), '/var/run/wan-dns.sock');
  t.equal(controlPath({ root: '/tmp/node/' }), '/tmp/node/var/run/wan-dns.sock');
  t.equal(controlPath({ root: '/tmp/node', control: '/run/x.sock' }), '/run/x.sock');
});
