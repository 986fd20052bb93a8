#!/usr/bin/env node
// Bench for @meshwan/uplinks: time from losing an uplink to (a) table 1's default on the other uplink and
// (b) marked traffic flowing again, for carrier loss and for a silent drop (only probes notice), and the time from
// the end of the loss to the default back on the first uplink; with ping probes and with DNS probes (NSD on each
// WAN router), and the shipped probe defaults (interval 0.5 s, timeout 0.5 s, down 2, up 3). Two uplinks in network
// namespaces, the daemon running in the node namespace as the router runs it (src/main.ts bundled for QuickJS and
// compiled to bytecode, on meshwan-js), with its idle RSS beside Node's. Prints Markdown for BENCHMARKS.md. Needs
// root, NSD and a build. --quick: 2 runs.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const quick = process.argv.includes('--quick');
const runs = quick ? 2 : 7;
const prefix = `mwu${randomBytes(3).toString('hex')}`;
const bin = new URL('../bin/meshwan-uplinks.js', import.meta.url).pathname;
const repo = new URL('../../..', import.meta.url).pathname;
const engine = join(repo, 'build', 'host', 'meshwan-js');
const N = `${prefix}-n`;
const A = `${prefix}-a`;
const B = `${prefix}-b`;

function run(...argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const ip = (ns, ...args) => run('ip', '-n', ns, ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function defaultDev() {
  const routes = JSON.parse(run('ip', '-j', '-n', N, '-6', 'route', 'show', 'table', '1') || '[]');
  const ours = routes.find((r) => r.dst === 'default' && r.protocol === '78');
  return ours?.dev ?? (ours?.nexthops ? 'multipath' : 'none');
}

function marked() {
  return (
    spawnSync('ip', ['netns', 'exec', N, 'ping', '-6', '-n', '-c1', '-W0.1', '-m', '1', '2001:db8:ee::1'], { stdio: 'ignore' }).status === 0
  );
}

async function until(what, check, timeoutMs = 30_000) {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function setup() {
  for (const ns of [N, A, B]) {
    run('ip', 'netns', 'add', ns);
    ip(ns, 'link', 'set', 'lo', 'up');
  }
  ip(N, 'link', 'add', 'wa', 'type', 'veth', 'peer', 'name', 'ua', 'netns', A);
  ip(N, 'link', 'add', 'wb', 'type', 'veth', 'peer', 'name', 'ub', 'netns', B);
  run('ip', 'netns', 'exec', A, 'sysctl', '-qw', 'net.ipv6.conf.ua.keep_addr_on_down=1');
  run('ip', 'netns', 'exec', B, 'sysctl', '-qw', 'net.ipv6.conf.ub.keep_addr_on_down=1');
  for (const [ns, dev, addr] of [
    [N, 'wa', '2001:db8:a::2/64'],
    [N, 'wb', '2001:db8:b::2/64'],
    [A, 'ua', '2001:db8:a::1/64'],
    [B, 'ub', '2001:db8:b::1/64'],
    [A, 'lo', '2001:db8:fa::1/128'],
    [B, 'lo', '2001:db8:fb::1/128'],
    [A, 'lo', '2001:db8:ee::1/128'],
    [B, 'lo', '2001:db8:ee::1/128'],
  ]) {
    ip(ns, 'link', 'set', dev, 'up');
    ip(ns, '-6', 'addr', 'add', addr, 'dev', dev, 'nodad');
  }
  ip(N, '-6', 'rule', 'add', 'pref', '1', 'fwmark', '0x1/0x1', 'lookup', '1');
  ip(N, '-6', 'route', 'add', 'unreachable', 'default', 'table', '1', 'metric', '65535');
  for (const [ns, addr] of [
    [A, '2001:db8:fa::53/128'],
    [B, '2001:db8:fb::53/128'],
  ]) {
    ip(ns, '-6', 'addr', 'add', addr, 'dev', 'lo');
  }
}

/** The daemon's config for a probe method: ping the track address, or ask the router's DNS server for a TXT. */
/** DIR/root-METHOD/etc/config/meshwan-uplinks; returns the root (`--root`). */
function writeConfig(dir, method) {
  const root = join(dir, `root-${method}`);
  const confdir = join(root, 'etc', 'config');
  mkdirSync(confdir, { recursive: true });
  const probe = (track, dns) =>
    method === 'ping'
      ? `\tlist track_ip '${track}'\n`
      : `\toption track_method 'dns'\n\tlist track_ip '${dns}'\n\toption track_dns_name 'probe.meshwan.test'\n\toption track_dns_type 'TXT'\n`;
  const uplink = (name, dev, gw, track, dns, metric) =>
    `config interface '${name}'\n\toption device '${dev}'\n\toption gateway '${gw}'\n${probe(track, dns)}\toption metric '${metric}'\n\n`;
  writeFileSync(
    join(confdir, 'meshwan-uplinks'),
    `config globals 'g'\n\toption table '1'\n\toption state_file '${join(dir, 'lg.json')}'\n\toption resolv_file '${join(dir, 'resolv')}'\n\n` +
      uplink('wana', 'wa', '2001:db8:a::1', '2001:db8:fa::1', '2001:db8:fa::53', 1) +
      uplink('wanb', 'wb', '2001:db8:b::1', '2001:db8:fb::1', '2001:db8:fb::53', 2),
  );
  return root;
}

/** The daemon's resident set (VmRSS) in MB. */
function rssMb(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return (kb / 1024).toFixed(1);
}

/** Starts the daemon in the node namespace; `ip netns exec` execs the engine, so the child's pid is the daemon's. */
function startDaemon(command, root, statusFile) {
  return spawn('ip', ['netns', 'exec', N, ...command, 'daemon', '--root', root, '--status-file', statusFile], { stdio: 'ignore' });
}

/** NSD in router namespace `ns` serving meshwan.test on `address` (as test/lib/topo-nsd.ts, without tap). */
function startNsd(dir, ns, address) {
  const d = join(dir, `nsd-${ns}`);
  mkdirSync(join(d, 'xfr'), { recursive: true });
  writeFileSync(
    join(d, 'zone'),
    '$ORIGIN meshwan.test.\n$TTL 0\n@ IN SOA ns hostmaster 1 3600 600 86400 0\n@ IN NS ns\nns IN A 192.0.2.1\nprobe IN TXT "bench"\n',
  );
  const conf = ['server:', `  ip-address: ${address}`, '  port: 53', '  server-count: 1', '  username: ""', '  chroot: ""']
    .concat([
      `  zonesdir: "${d}"`,
      `  pidfile: "${join(d, 'pid')}"`,
      `  zonelistfile: "${join(d, 'zl')}"`,
      `  xfrdfile: "${join(d, 'xs')}"`,
    ])
    .concat([`  xfrdir: "${join(d, 'xfr')}"`, '  database: ""', `  logfile: "${join(d, 'log')}"`, '  rrl-ratelimit: 0'])
    .concat(['remote-control:', '  control-enable: no', 'zone:', '  name: "meshwan.test"', `  zonefile: "${join(d, 'zone')}"`, '']);
  writeFileSync(join(d, 'nsd.conf'), conf.join('\n'));
  return spawn('ip', ['netns', 'exec', ns, 'nsd', '-d', '-c', join(d, 'nsd.conf')], { stdio: 'ignore' });
}

function answersDns(ns, server) {
  return spawnSync('ip', ['netns', 'exec', ns, 'dig', '+time=1', '+tries=1', '+short', `@${server}`, 'probe.meshwan.test', 'TXT'], {
    encoding: 'utf8',
  }).stdout.includes('bench');
}

const cuts = {
  'link down (carrier)': {
    cut: () => ip(A, 'link', 'set', 'ua', 'down'),
    heal: () => ip(A, 'link', 'set', 'ua', 'up'),
  },
  'silent drop (nft in the router)': {
    cut: () => {
      run(
        'ip',
        'netns',
        'exec',
        A,
        'nft',
        'add table inet cut; add chain inet cut in { type filter hook input priority 0 ; } ; add rule inet cut in ip6 saddr 2001:db8:a::2 drop',
      );
    },
    heal: () => run('ip', 'netns', 'exec', A, 'nft', 'delete', 'table', 'inet', 'cut'),
  },
};

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)] ?? Number.NaN;
  return `${median.toFixed(0)} | ${(s[s.length - 1] ?? Number.NaN).toFixed(0)}`;
}

/** The daemon's status file says both uplinks are up (`ip netns exec` execs node, so the pids match). */
function bothUp(statusFile, pid) {
  try {
    const s = JSON.parse(readFileSync(statusFile, 'utf8'));
    return s.writer?.pid === pid && s.uplinks.every((u) => u.health.state === 'up');
  } catch {
    return false; // not written yet
  }
}

async function stop(child) {
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const dir = mkdtempSync(join(tmpdir(), 'uplinks-bench-'));
const children = [];
const rows = [];
const rss = [];
try {
  // What the router runs: the QuickJS bundle compiled to bytecode by meshwan-js, as staging ships it.
  const { bundleFor } = await import(join(repo, 'mk', 'bundle.mjs'));
  await bundleFor(join(repo, 'packages', 'uplinks', 'src', 'main.ts'), join(dir, 'meshwan-uplinks.quickjs.mjs'), 'quickjs');
  run(engine, '--compile', join(dir, 'meshwan-uplinks.quickjs.mjs'), join(dir, 'meshwan-uplinks.qbc'));
  const quickjs = [engine, join(dir, 'meshwan-uplinks.qbc')];
  setup();
  children.push(startNsd(dir, A, '2001:db8:fa::53'), startNsd(dir, B, '2001:db8:fb::53'));
  await until('NSD on both routers', () => answersDns(A, '2001:db8:fa::53') && answersDns(B, '2001:db8:fb::53'));
  for (const method of ['ping', 'dns']) {
    const root = writeConfig(dir, method);
    const statusFile = join(dir, `status-${method}.json`);
    // Idle RSS on Node first, for comparison (10 s after both uplinks are up).
    const onNode = startDaemon([process.execPath, bin], root, statusFile);
    children.push(onNode);
    await until('both uplinks up on Node', () => bothUp(statusFile, onNode.pid), 60_000);
    await sleep(10_000);
    const nodeRss = rssMb(onNode.pid);
    await stop(onNode);
    const daemon = startDaemon(quickjs, root, statusFile);
    children.push(daemon);
    // The previous daemon left its default in place (as on SIGTERM on a node): wait for this one's own verdicts.
    await until('both uplinks up in the new daemon', () => bothUp(statusFile, daemon.pid), 60_000);
    await sleep(10_000);
    rss.push(`| ${method} | ${rssMb(daemon.pid)} | ${nodeRss} |`);
    await until('default on wa', () => defaultDev() === 'wa');
    for (const [name, c] of Object.entries(cuts)) {
      const toRoute = [];
      const toTraffic = [];
      const toBack = [];
      for (let i = 0; i < runs; i++) {
        await until('default on wa', () => defaultDev() === 'wa');
        await sleep(300 + Math.random() * 500); // cut at a random phase of the probe interval
        const t0 = performance.now();
        c.cut();
        let routeAt;
        let trafficAt;
        while (routeAt === undefined || trafficAt === undefined) {
          const now = performance.now();
          if (now - t0 > 30_000) throw new Error(`${method}, ${name}: no failover within 30 s`);
          if (routeAt === undefined && defaultDev() === 'wb') routeAt = performance.now() - t0;
          if (trafficAt === undefined && routeAt !== undefined && marked()) trafficAt = performance.now() - t0;
          await sleep(5);
        }
        toRoute.push(routeAt);
        toTraffic.push(trafficAt);
        await sleep(300 + Math.random() * 500); // heal at a random phase too
        const t1 = performance.now();
        c.heal();
        await until('default back on wa', () => defaultDev() === 'wa');
        toBack.push(performance.now() - t1);
      }
      rows.push(`| ${method} | ${name} | ${runs} | ${stats(toRoute)} | ${stats(toTraffic)} | ${stats(toBack)} |`);
    }
    await stop(daemon);
  }
} finally {
  for (const child of children) await stop(child);
  for (const ns of [N, A, B]) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
}

const load = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
// On a shared machine the daemon waits for a CPU too: say so next to the figures rather than leave them unexplained.
const busy = (loadavg()[0] ?? 0) > cpus().length ? ' (a loaded machine: the figures include waiting for a CPU)' : ' (an idle machine)';
console.log(`Failover from uplink A to uplink B with the default probe settings (interval 0.5 s, timeout 0.5 s, down 2, up 3):
time from the cut to table 1's default on B, and to the first marked ping answered through B (polled every 5 ms); then
time from the end of the cut to the default back on A. Probes: ping (ICMP echo to a track address) or dns (a TXT query
to NSD on the WAN router, track_method 'dns'). The cut and the heal fall at a random phase of the probe interval.
The daemon runs on meshwan-js (QuickJS, bytecode), as the router runs it.
${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${load} at the end${busy}.

| probes | cut | runs | to default on B, median ms | max ms | to traffic on B, median ms | max ms | back on A after the heal, median ms | max ms |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

The daemon's RSS (VmRSS), idle: 10 s after both uplinks are up, before the first cut.

| probes | meshwan-js MB | Node MB |
|---|---|---|
${rss.join('\n')}

\`node packages/uplinks/bench/run.mjs${quick ? ' --quick' : ''}\``);
