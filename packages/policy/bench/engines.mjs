#!/usr/bin/env node
// `meshwan apply` with nothing to change as a whole process, as the router runs it (meshwan-js, QuickJS, from the
// bundle's source and from its bytecode) against Node: wall time and peak RSS from /usr/bin/time -v, median of
// RUNS. Then `meshwan daemon` on meshwan-js: its RSS once watching and the repair of a deleted rule (netlink
// monitor). Host only (qemu's figures are qemu's). Needs root and a build (`make all`); a namespace of its own.
// `node packages/policy/bench/engines.mjs [--quick]`; prints Markdown for BENCHMARKS.md.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 9;
const root = new URL('../../..', import.meta.url).pathname;
const meshwanJs = join(root, 'build/host/meshwan-js');
const ns = `mwbenchp${randomBytes(3).toString('hex')}`;
const peer = `${ns}p`;
const dir = mkdtempSync(join(tmpdir(), 'meshwan-policy-bench-'));
const nodeRoot = join(dir, 'root');

function sh(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** wall ms and peak RSS (MB) of one run in the namespace; it must print `no change`. */
function timed(argv, env) {
  const r = spawnSync('ip', ['netns', 'exec', ns, '/usr/bin/time', '-v', ...argv], { encoding: 'utf8', env });
  if (r.status !== 0 || r.stdout !== 'no change\n') throw new Error(`${argv.join(' ')}: ${r.stdout}${r.stderr.slice(-2000)}`);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (!wall || !rss) throw new Error(`/usr/bin/time -v: no figures in ${r.stderr.slice(-500)}`);
  return { ms: (Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3])) * 1000, rssMB: Number(rss[1]) / 1024 };
}

process.on('exit', () => {
  spawnSync('ip', ['netns', 'del', ns]);
  spawnSync('ip', ['netns', 'del', peer]);
  rmSync(dir, { recursive: true, force: true });
});
sh('ip', ['netns', 'add', ns]);
sh('ip', ['netns', 'add', peer]);
sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
sh('ip', ['-n', ns, 'link', 'add', 'br-wan', 'type', 'veth', 'peer', 'name', 'up0', 'netns', peer]);
sh('ip', ['-n', ns, 'link', 'set', 'br-wan', 'up']);
sh('ip', ['-n', ns, '-6', 'addr', 'add', '2001:db8:1::5/64', 'dev', 'br-wan', 'nodad']);
mkdirSync(join(nodeRoot, 'etc/config'), { recursive: true });
writeFileSync(
  join(nodeRoot, 'etc/config/network'),
  "config interface 'loopback'\n\toption ifname 'lo'\n\nconfig interface 'wan6'\n\toption ifname 'br-wan'\n\toption ip6table '1'\n\nconfig rule6 'wan6_lookup'\n\toption mark '0x01/0x01'\n\toption lookup '1'\n\nconfig route6 'wan6_unreachable'\n\toption type 'unreachable'\n\toption interface 'loopback'\n\toption target '::/0'\n\toption table '1'\n\toption metric '65535'\n",
);

const { bundleFor } = await import(join(root, 'mk/bundle.mjs'));
const entry = join(root, 'packages/policy/src/main.ts');
await bundleFor(entry, join(dir, 'meshwan.node.mjs'), 'node', { minify: true });
await bundleFor(entry, join(dir, 'meshwan.quickjs.mjs'), 'quickjs', { minify: true });
copyFileSync(join(root, 'packages/os/build/netio.node'), join(dir, 'netio.node'));
sh(meshwanJs, ['--compile', join(dir, 'meshwan.quickjs.mjs'), join(dir, 'meshwan.qbc')]);

const routing = { ...process.env, MESHWAN_FIREWALL: 'none' };
const apply = (...argv) => [...argv, 'apply', '--root', nodeRoot];
sh('ip', ['netns', 'exec', ns, ...apply(process.execPath, join(root, 'packages/policy/bin/meshwan.js'))]);
const rows = [
  ['Node, bin/meshwan.js (dist, unbundled)', apply(process.execPath, join(root, 'packages/policy/bin/meshwan.js')), routing],
  ['Node, one bundle', apply(process.execPath, join(dir, 'meshwan.node.mjs')), routing],
  ['meshwan-js, bundle source', apply(meshwanJs, join(dir, 'meshwan.quickjs.mjs')), routing],
  ['meshwan-js, bytecode (.qbc)', apply(meshwanJs, join(dir, 'meshwan.qbc')), routing],
];
if (!quick) {
  // With the firewall: its backend's tools run too (iptables-save per family, and nothing to restore).
  rows.push([
    'Node, bin/meshwan.js, with the firewall',
    apply(process.execPath, join(root, 'packages/policy/bin/meshwan.js')),
    process.env,
  ]);
  rows.push(['meshwan-js, bytecode, with the firewall', apply(meshwanJs, join(dir, 'meshwan.qbc')), process.env]);
  sh('ip', ['netns', 'exec', ns, ...apply(meshwanJs, join(dir, 'meshwan.qbc'))]);
}
const results = rows.map(([name, argv, env]) => {
  const runs = Array.from({ length: RUNS }, () => timed(argv, env));
  return { name, ms: median(runs.map((r) => r.ms)), rssMB: Math.max(...runs.map((r) => r.rssMB)) };
});

// The daemon on meshwan-js: RSS once watching, and a deleted rule repaired (netlink monitor).
const daemon = spawn('ip', ['netns', 'exec', ns, meshwanJs, join(dir, 'meshwan.qbc'), 'daemon', '--root', nodeRoot], {
  env: routing,
  stdio: ['ignore', 'ignore', 'pipe'],
});
let log = '';
daemon.stderr.on('data', (d) => {
  log += d;
});
const deadline = Date.now() + 30_000;
while (!log.includes('watching')) {
  if (Date.now() > deadline) throw new Error(`the daemon did not start: ${log}`);
  await new Promise((r) => setTimeout(r, 20));
}
const pid = sh('ip', ['netns', 'pids', ns])
  .split('\n')
  .filter((p) => /meshwan-js/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8')))[0];
const vmRss = (p) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const repairMs = [];
for (let i = 0; i < RUNS; i++) {
  sh('ip', ['-n', ns, '-6', 'rule', 'del', 'pref', '9001']);
  const t0 = performance.now();
  while (!sh('ip', ['-n', ns, '-6', 'rule', 'show', 'pref', '9001']).includes('9001')) await new Promise((r) => setTimeout(r, 2));
  repairMs.push(performance.now() - t0);
}
const rssAfter = vmRss(pid);
daemon.kill('SIGTERM');
await new Promise((r) => daemon.once('exit', r));

const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const fmt = (ms) => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));
console.log(
  `Command: \`node packages/policy/bench/engines.mjs${quick ? ' --quick' : ''}\` (root; namespaces of its own), host only. ${new Date().toISOString().slice(0, 10)}, Gluon's IPv6 split, nothing to change (routing only unless said), median of ${RUNS} (wall, /usr/bin/time -v), peak RSS the largest of the runs, load average ${load} at the end.\n`,
);
console.log('| `meshwan apply`, no change | wall ms | peak RSS MB |\n|---|---:|---:|');
for (const r of results) console.log(`| ${r.name} | ${fmt(r.ms)} | ${r.rssMB.toFixed(1)} |`);
console.log(
  `\n\`meshwan daemon\` on meshwan-js (bytecode, netlink monitor): ${vmRss.length ? rssAfter.toFixed(1) : '?'} MB RSS after ${RUNS} repairs; a deleted rule is back in ${fmt(median(repairMs))} ms (median; max ${fmt(Math.max(...repairMs))}).`,
);
