// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * meshwan-uplinks as the router runs it: src/main.ts bundled for QuickJS by mk/bundle.mjs, compiled to bytecode
 * and run by meshwan-js. The CLI's answers (usage, a bad config, `status` text and --json, no status) are the same
 * bytes and exit codes on Node (bin/meshwan-uplinks.js), on meshwan-js and on meshwan-js for big-endian MIPS under
 * qemu-user. In the two-uplink namespaces of lib/topology.ts, `once` and `flush` on meshwan-js make and remove the
 * same table-1 routes as Node's; the daemon on meshwan-js fails over on carrier loss and back, answers SIGUSR1 and
 * stops on SIGTERM, and probes by DNS through its marked socket (the seam's batch loop). `once` is not run under
 * qemu-user: it cannot pass the kernel's link dump or any rule dump through (packages/os README).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { addAddress, commandExists, isRoot, stopProcess, waitFor } from '../../../test/lib/netns.js';
import { startNsd } from '../../../test/lib/nsd.js';
import { requireParts } from '../../../test/lib/require.js';
import { testZoneOf } from '../../../test/lib/topo-nsd.js';
import { engine } from '../../os/test/lib/probe.js';
import { bundleEntry, runBundle, scratch } from '../../os/test/lib/seam.js';
import { bin, buildTopology, onDevices, portDown, portUp, startDaemon, type Topology, table1, writeConfig } from './lib/topology.js';

requireParts(
  !isRoot()
    ? 'needs root for network namespaces'
    : !commandExists('ping')
      ? 'needs iputils ping'
      : !commandExists('nsd')
        ? 'needs NSD'
        : !commandExists('qemu-mips-static')
          ? 'needs qemu-user-static'
          : false,
);
t.setTimeout(600_000);

const main = resolve(fileURLToPath(new URL('../src/main.ts', import.meta.url)));

/** What each runtime runs: Node's entry as it is today, and the bytecode staging ships (the host compiles it). */
async function programs(dir: string): Promise<Record<'node' | 'host' | 'mips_24kc', string>> {
  const qbc = await bundleEntry(main, 'host', dir);
  return { node: bin, host: qbc, mips_24kc: qbc };
}

/** A status file as a daemon writes it; its unreadable updatedAt makes the age `?` on every run (no clock in the output). */
function statusFileText(): string {
  const status = {
    table: 1,
    uplinks: [
      {
        name: 'wana',
        family: 'inet6',
        device: 'wa',
        enabled: true,
        health: { state: 'up', carrier: true, reason: 'up: 2 probe rounds answered in a row (up=2)', rounds: 7, lost: 1 },
        gateway: 'fe80::a1',
        gatewaySource: 'config',
        metric: 1,
        weight: 1,
        probeMark: '0x100',
        lastProbe: [{ target: '2001:db8:fa::1', ok: true, rttMs: 0.2, detail: 'rtt 0.2 ms' }],
      },
    ],
    choices: [{ family: 'inet6', members: [{ name: 'wana', weight: 1 }], reason: 'wana is the healthy uplink with the lowest metric' }],
    routes: ['default via fe80::a1 dev wa table 1 proto 78 metric 1'],
    restore: [],
    errors: [],
    updatedAt: 'sometime',
    writer: { pid: 2147483647, command: 'daemon', intervalMs: 200 },
  };
  return `${JSON.stringify(status, null, 2)}\n`;
}

t.test('the CLI: the same output and exit codes on Node, meshwan-js and mips_24kc under qemu-user', async (t) => {
  const dir = scratch(t);
  const run = await programs(dir);
  const statusFile = join(dir, 'status.json');
  writeFileSync(statusFile, statusFileText());
  const badRoot = join(dir, 'bad');
  mkdirSync(join(badRoot, 'etc/config'), { recursive: true });
  writeFileSync(join(badRoot, 'etc/config/meshwan-uplinks'), "config interface 'wan'\n\toption device 'eth1'\n\toption weight '0'\n");
  const cases: [string, string[], number, RegExp][] = [
    ['no command', [], 2, /missing command\nusage: meshwan-uplinks daemon\|once/],
    ['an unknown command', ['frobnicate'], 2, /unknown command frobnicate/],
    ['an unknown option', ['status', '--bogus'], 2, /unknown option --bogus/],
    ['a flag without its value', ['status', '--root'], 2, /--root needs a value/],
    [
      'a bad config',
      ['once', '--root', badRoot, '--status-file', join(dir, 'none.json')],
      2,
      /wan\.weight: expected an integer 1\.\.256, got "0"/,
    ],
    ['no status file', ['status', '--status-file', join(dir, 'none.json')], 1, /no status at .*none\.json: is the daemon running\?/],
    ['status', ['status', '--status-file', statusFile], 0, /STALE: its writer \(pid 2147483647\) is gone; updated \? s ago/],
    ['status --json', ['status', '--json', '--status-file', statusFile], 0, /STALE/],
  ];
  for (const [what, args, code, stderr] of cases) {
    const ran = await Promise.all((['node', 'host', 'mips_24kc'] as const).map((rt) => runBundle(run[rt], rt, args)));
    const [node, host, mips] = ran;
    t.equal(node?.status, code, `${what}: Node exits ${code} (${node?.stderr})`);
    t.match(node?.stderr, stderr, `${what}: Node says why`);
    for (const [name, r] of [
      ['meshwan-js', host],
      ['mips_24kc', mips],
    ] as const) {
      t.same([r?.status, r?.stdout, r?.stderr], [node?.status, node?.stdout, node?.stderr], `${what}: ${name} equals Node`);
    }
  }
  const rendered = await runBundle(run.host, 'host', ['status', '--status-file', statusFile]);
  t.match(rendered.stdout, /^table 1\nuplink wana \(inet6, dev wa, metric 1, weight 1, probe mark 0x100\): up, via fe80::a1 \(config\)\n/);
  t.equal(
    (await runBundle(run.host, 'host', ['status', '--json', '--status-file', statusFile])).stdout,
    statusFileText(),
    '--json: the file as it is',
  );
});

/** Our table-1 routes, the way both engines' runs compare (no expiry or cache counters). */
function ourRoutes(topo: Topology): string {
  return JSON.stringify(table1(topo.node).filter((r) => r.protocol === '78'));
}

/** A CLI's output without what differs between two runs by itself: times, pids, round trips. */
function steady(text: string): string {
  return text
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'TIME')
    .replace(/pid \d+|"pid": \d+/g, 'PID')
    .replace(/rtt [\d.?]+ ms|"rttMs": [\d.]+/g, 'RTT');
}

t.test('once and flush on meshwan-js make and remove the same routes as Node', async (t) => {
  const topo = buildTopology(t);
  const root = writeConfig(topo);
  writeFileSync(join(topo.dir, 'resolv.conf'), '# Interface wanb\nnameserver 2001:db8:fb::53\n');
  const qbc = await bundleEntry(main, 'host', topo.dir);
  const statusFile = join(topo.dir, 'status.json');
  const once = (command: string[]) =>
    spawnSync('ip', ['netns', 'exec', topo.node.name, ...command, 'once', '--root', root, '--status-file', statusFile], {
      encoding: 'utf8',
    });
  const flush = (command: string[]) =>
    spawnSync('ip', ['netns', 'exec', topo.node.name, ...command, 'flush', '--root', root, '--status-file', statusFile], {
      encoding: 'utf8',
    });
  const byNode = once([process.execPath, bin]);
  t.equal(byNode.status, 0, `Node: once (${byNode.stderr})`);
  const routesByNode = ourRoutes(topo);
  t.match(routesByNode, /"dst":"default"/, 'a default of ours');
  t.equal(flush([process.execPath, bin]).status, 0, 'Node: flush');
  t.equal(ourRoutes(topo), '[]', 'flushed');
  // Node's run saved its members as last good: without the file, meshwan-js starts from where Node started.
  rmSync(join(topo.dir, 'last-good.json'));

  const byQuickjs = once([engine('host'), qbc]);
  t.equal(byQuickjs.status, 0, `meshwan-js: once (${byQuickjs.stderr})`);
  t.equal(ourRoutes(topo), routesByNode, 'the same table-1 routes as Node');
  t.equal(steady(byQuickjs.stdout), steady(byNode.stdout), 'the same status printed');
  t.match(byQuickjs.stdout, /default \(inet6\): wana\n/);
  t.match(readFileSync(statusFile, 'utf8'), /"command": "once"/, 'its status file');
  const flushed = flush([engine('host'), qbc]);
  t.equal(flushed.status, 0, `meshwan-js: flush (${flushed.stderr})`);
  t.equal(ourRoutes(topo), '[]', 'nothing of ours left');
  t.notOk(table1(topo.node).length === 0, 'the floor stays');
});

t.test('the daemon on meshwan-js fails over on carrier loss and back, answers SIGUSR1, stops on SIGTERM', async (t) => {
  const topo = buildTopology(t);
  const root = writeConfig(topo);
  writeFileSync(join(topo.dir, 'resolv.conf'), '');
  const qbc = await bundleEntry(main, 'host', topo.dir);
  const { child: daemon, statusFile, stderr } = startDaemon(t, topo, root, [engine('host'), qbc]);
  await waitFor('default via wa (metric 1 beats 2)', onDevices(topo, ['wa']), 30_000);
  daemon.kill('SIGUSR1');
  await waitFor('the poke to be logged', () => /meshwan-uplinks: \d{4}-\d\d-\d\dT[\d:.]+Z poked: resync/.test(stderr()));
  portDown(topo, 'a');
  await waitFor('default moves to wb after link down', onDevices(topo, ['wb']), 30_000);
  portUp(topo, 'a');
  await waitFor('default back on wa', onDevices(topo, ['wa']), 30_000);
  const status = spawnSync('ip', ['netns', 'exec', topo.node.name, engine('host'), qbc, 'status', '--status-file', statusFile], {
    encoding: 'utf8',
  });
  t.equal(status.status, 0, status.stderr);
  t.match(status.stdout, /default \(inet6\): wana\n/);
  t.match(status.stderr, '', 'a live daemon: no STALE warning');
  const exited = new Promise<number | null>((done) => daemon.once('exit', (code) => done(code)));
  daemon.kill('SIGTERM');
  t.equal(await exited, 0, 'exits 0 on SIGTERM');
  t.match(ourRoutes(topo), /"dev":"wa"/, 'its routes stay (a restart must not drop the WAN)');
  t.notMatch(stderr(), /internal error|Error:|unhandled/i);
});

t.test('the daemon on meshwan-js probes by DNS through its marked socket', async (t) => {
  const topo = buildTopology(t);
  addAddress(topo.ra, 'lo', '2001:db8:fa::53/128');
  await startNsd(t, testZoneOf({ txt: 'wan-a', a: '203.0.113.10', aaaa: '2001:db8:fa::10' }), {
    ns: topo.ra,
    addresses: ['2001:db8:fa::53'],
    parent: topo.dir,
  });
  const dns = "\toption track_method 'dns'\n\toption track_dns_name 'probe.meshwan.test'\n\toption track_dns_type 'TXT'\n";
  // wana asks its uci dns_server by DNS (no track_ip: the config's track_ip lines are taken out); wanb pings.
  const root = writeConfig(topo);
  const config = join(root, 'etc/config/meshwan-uplinks');
  writeFileSync(
    config,
    readFileSync(config, 'utf8')
      .replace("\tlist track_ip '2001:db8:fa::1'\n", '')
      .replace("config interface 'wanb'", `${dns}\nconfig interface 'wanb'`),
  );
  writeFileSync(join(topo.dir, 'resolv.conf'), '');
  const qbc = await bundleEntry(main, 'host', topo.dir);
  const { child: daemon, statusFile } = startDaemon(t, topo, root, [engine('host'), qbc]);
  type StatusJson = { uplinks: { name: string; lastProbe: { target: string; ok: boolean; detail: string }[] }[] };
  // The file appears after the daemon's first reconcile.
  const wana = () =>
    existsSync(statusFile)
      ? (JSON.parse(readFileSync(statusFile, 'utf8')) as StatusJson).uplinks.find((u) => u.name === 'wana')
      : undefined;
  await waitFor(
    'wana answered by its DNS server',
    () => wana()?.lastProbe.some((p) => p.target === '2001:db8:fa::53' && p.ok && /^NOERROR in/.test(p.detail)) === true,
    30_000,
  );
  await waitFor('default via wa', onDevices(topo, ['wa']), 30_000);
  // Router A drops DNS: wana is down although it still answers ping, and the default moves to wanb.
  topo.ra.exec('nft', 'add', 'table', 'inet', 'cut');
  topo.ra.exec('nft', 'add', 'chain', 'inet', 'cut', 'in', '{ type filter hook input priority 0 ; policy accept ; }');
  topo.ra.exec('nft', 'add', 'rule', 'inet', 'cut', 'in', 'udp', 'dport', '53', 'drop');
  await waitFor('default moves to wb once DNS is dropped', onDevices(topo, ['wb']), 30_000);
  t.match(wana()?.lastProbe, [{ ok: false, detail: /no DNS reply within 300 ms/ }]);
  await stopProcess(daemon);
});
