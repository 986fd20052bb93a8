#!/usr/bin/env node
// Benchmarks of @meshwan/netlink (issue #6), printed as Markdown for BENCHMARKS.md:
// 1. a dump of 100k IPv6 routes against `ip -6 route show table all` (time and peak RSS, median of 5);
// 2. RouteCache lookups per second on 100k routes and 20 rules;
// 3. a 50k-event burst through the Monitor: events per second, nothing lost.
// Runs in a network namespace of its own (needs root). `--quick` uses 10k routes and events.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { dumpAll, Monitor, Netlink, RouteCache, routeKey } from '../dist/index.js';
import { median, routesNamespace, sh } from './routes-ns.mjs';

const quick = process.argv.includes('--quick');
const ROUTES = quick ? 10_000 : 100_000;
const EVENTS = quick ? 10_000 : 50_000;
const RUNS = quick ? 3 : 5;
const ns = `mwbench${randomBytes(3).toString('hex')}`;
const root = new URL('..', import.meta.url).pathname;

/** wall ms, cpu ms and peak RSS (MB) of one command, from /usr/bin/time */
function timed(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  const [e, u, s, m] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { ms: e * 1000, cpuMs: (u + s) * 1000, rssMB: m / 1024, stdout: r.stdout };
}

routesNamespace(ns, ROUTES);
for (let i = 0; i < 20; i++) {
  const sel =
    i % 3 === 0
      ? ['fwmark', `0x${(1 << (i % 8)).toString(16)}/0xff`]
      : i % 3 === 1
        ? ['to', `2001:db8:${i}::/48`]
        : ['from', `2001:db8:${i}::/48`];
  sh('ip', ['-6', '-n', ns, 'rule', 'add', 'priority', String(100 + i), ...sel, 'table', String(i % 2 ? 1 : 254)]);
}

// 1. dump
const ours = [];
const theirs = [];
let count = 0;
for (let run = 0; run < RUNS; run++) {
  const o = timed(process.execPath, [`${root}bench/dump-child.mjs`, ns]);
  const j = JSON.parse(o.stdout);
  count = j.routes;
  ours.push({ ms: j.ms, cpuMs: j.cpuMs, rssMB: o.rssMB });
  const t = timed('ip', ['-6', '-n', ns, 'route', 'show', 'table', 'all']);
  theirs.push(t);
}
const oMs = median(ours.map((x) => x.ms));
const tMs = median(theirs.map((x) => x.ms));
const oRss = Math.max(...ours.map((x) => x.rssMB));
const tRss = Math.max(...theirs.map((x) => x.rssMB));
const oCpu = median(ours.map((x) => x.cpuMs));
const tCpu = median(theirs.map((x) => x.cpuMs));

// 2. lookups
const nl = Netlink.open({ netns: `/run/netns/${ns}` });
const cache = new RouteCache();
cache.load(dumpAll(nl.socket));
const dsts = [];
for (let i = 0; i < 4096; i++) {
  const n = Math.floor(Math.random() * ROUTES * 1.1);
  dsts.push(
    `2001:db8:${(n >> 16).toString(16)}${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16)}::${(i + 1).toString(16)}`,
  );
}
const marks = [0, 1, 2, 4, 8];
let found = 0;
for (let i = 0; i < 20_000; i++) found += cache.lookup(dsts[i & 4095], { mark: marks[i % 5] }).verdict === 'route' ? 1 : 0;
// a full collection first, so the garbage of loading 100k routes (and its concurrent marking threads, which
// process.cpuUsage counts) is not charged to the lookups; the lookups' own garbage still is
setFlagsFromString('--expose-gc');
runInNewContext('gc')();
const LOOKUPS = quick ? 200_000 : 2_000_000;
const l0 = process.hrtime.bigint();
const lc0 = process.cpuUsage();
for (let i = 0; i < LOOKUPS; i++) found += cache.lookup(dsts[i & 4095], { mark: marks[i % 5] }).verdict === 'route' ? 1 : 0;
const lcpu = process.cpuUsage(lc0);
const lookupSec = Number(process.hrtime.bigint() - l0) / 1e9;
const perSec = LOOKUPS / lookupSec;
const perCpuSec = LOOKUPS / ((lcpu.user + lcpu.system) / 1e6);

// 3. event burst through the Monitor (default 32 MiB receive buffer)
const m = Monitor.start({ netns: `/run/netns/${ns}` });
await m.ready;
let events = 0;
let first = 0n;
let last = 0n;
m.on((e) => {
  if (e.type === 'new' && e.kind === 'route' && e.route.table === 9) {
    if (events === 0) first = process.hrtime.bigint();
    events++;
    last = process.hrtime.bigint();
  }
});
const lines = [];
for (let i = 0; i < EVENTS; i++)
  lines.push(`route add 2001:db8:${(0x8000 | (i >> 8)).toString(16)}:${(i & 0xff).toString(16)}::/64 via 2001:db8::2 table 9`);
const child = spawn('ip', ['-6', '-n', ns, '-batch', '-'], { stdio: ['pipe', 'ignore', 'inherit'] });
child.stdin.on('error', () => {});
child.stdin.end(`${lines.join('\n')}\n`);
await new Promise((r) => child.on('exit', r));
const deadline = Date.now() + 60_000;
while (events < EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
const burstSec = Number(last - first) / 1e9;
const fresh = nl.listRoutes({ family: 6, table: 9 }).map(routeKey).sort().join();
const exact = m.cache.listRoutes({ family: 6, table: 9 }).map(routeKey).sort().join() === fresh;
m.close();
nl.close();

const f = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const load = (await import('node:os')).loadavg()[0];
console.log(`Command: \`node packages/netlink/bench/run.mjs${quick ? ' --quick' : ''}\` (root; a network namespace of its own). ${new Date().toISOString().slice(0, 10)}, Linux ${(await import('node:os')).release()}, Node ${process.version}, ${(await import('node:os')).cpus().length} CPUs, load average ${f(load, 1)} while it ran.

| measurement | @meshwan/netlink | reference | ratio | goal |
|---|---|---|---|---|
| dump ${f(count)} IPv6 routes, wall (median of ${RUNS}) | ${f(oMs)} ms | \`ip -6 route show table all\`: ${f(tMs)} ms | ${f(oMs / tMs, 2)}x | <= 1.5x |
| same, CPU time (user+sys) | ${f(oCpu)} ms | ${f(tCpu)} ms | ${f(oCpu / tCpu, 2)}x | |
| same, peak RSS (whole process) | ${f(oRss)} MB | ${f(tRss)} MB | | <= 150 MB |
| RouteCache.lookup, ${f(cache.routeCount)} routes, ${cache.listRules(6).length} IPv6 rules (wall) | ${f(perSec / 1e6, 2)} M/s | | | >= 1 M/s |
| same, per CPU second (${f((100 * found) / (LOOKUPS + 20_000))}% answered with a route) | ${f(perCpuSec / 1e6, 2)} M/s | | | |
| ${f(EVENTS)}-event burst (\`ip -batch\` route adds) through Monitor | ${f(events / burstSec)} events/s | | | |
| events received / sent, cache == fresh dump | ${f(events)} / ${f(EVENTS)}, ${exact ? 'yes' : 'NO'}, ${m.resyncs} re-dumps | | | nothing lost |

npm \`netlink\` (node_netlink 0.3.0) is not installed here and not measured; issue #6 measured it at 0.56-1.1 s and up to 520 MB for 100k routes.`);
if (events !== EVENTS || !exact) process.exitCode = 1;
