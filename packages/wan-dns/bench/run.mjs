#!/usr/bin/env node
// Bench of wan-dns against dnsmasq, in the same run and the same network namespace, with the same NSD upstream,
// each forwarder pinned to one core (taskset) and dnsperf and NSD on the other, cache-hit and cache-miss modes.
// - CPU µs per query at saturation (dnsperf -q 500 -c 4, no rate limit): utime+stime delta from /proc/PID/stat
//   over the queries completed. Why not at a fixed rate: on this VM a wake-up from epoll costs ~80 µs, and at
//   2k qps every query costs one wake-up for any server (dnsmasq and a 3-line Node echo alike measured 80-175
//   µs/query), so the figure would be the hypervisor's, not the forwarder's. At saturation the wake-ups are
//   shared by many queries and the work per query shows. Each forwarder is measured in turn, twice, and the
//   lower figure kept (noise on a shared machine only adds CPU).
// - p50/p99 latency at a fixed 2k qps (dnsperf -Q 2000 -v), the issue's latency figure.
// - Idle RSS (VmRSS after start), peak RSS (VmHWM after all rows), then a fuzz run (1M hostile packets; 100k
//   with --quick) against wan-dns and the peak RSS after it.
// wan-dns runs as shipped: an esbuild bundle with the addon next to it, under the node flags of package.json
// "meshwan.nodeFlags" (what the installed wrapper passes), and as the router runs it: the QuickJS bundle of
// src/main.ts as bytecode on meshwan-js (packages/os), in the same run.
// Prints a Markdown section for BENCHMARKS.md (mk/bench.mjs puts it between the bench:wan-dns markers).
// Usage: node packages/wan-dns/bench/run.mjs [--quick]        (root; needs nsd, dnsperf, dnsmasq, taskset)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const quick = process.argv.includes('--quick');
const seconds = quick ? 3 : 10;
const rate = 2000;
const fuzzCount = quick ? 100_000 : 1_000_000;
const rounds = quick ? 1 : 2;
const baselineAt = process.argv.indexOf('--baseline');
const baseline = baselineAt > 0 ? process.argv[baselineAt + 1] : undefined;
// --variant 'LABEL=NODE FLAGS' (repeatable): wan-dns once more under other node flags, for choosing them.
const variants = process.argv
  .flatMap((a, i) => (a === '--variant' ? [process.argv[i + 1] ?? ''] : []))
  .map((v) => {
    const at = v.indexOf('=');
    return {
      label: v.slice(0, at),
      flags: v
        .slice(at + 1)
        .split(' ')
        .filter(Boolean),
    };
  });
// --cpu-only: the saturation rows and memory only (no latency rows, no fuzz), for quick comparisons.
const cpuOnly = process.argv.includes('--cpu-only');
const here = new URL('.', import.meta.url).pathname;
const ns = `mwb${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'wan-dns-bench-'));
const children = [];
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const cores = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
const forwarderCore = cores > 1 ? '1' : '0';
const clientCore = '0';

function sh(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}
function inNs(args, options = {}) {
  const child = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.push(child);
  return child;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cpuTicks(pid) {
  // Fields after the ")" of comm: state is field 3; utime and stime are fields 14 and 15 (proc(5)).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
function memKb(pid, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

async function waitUdp(port) {
  for (let i = 0; i < 100; i++) {
    const r = spawnSync(
      'ip',
      ['netns', 'exec', ns, 'dig', '@127.0.0.1', '-p', String(port), '+time=1', '+tries=1', '+short', 'www.example.test'],
      { encoding: 'utf8' },
    );
    if (r.stdout.includes('192.0.2.80')) return;
    await sleep(100);
  }
  throw new Error(`nothing answers on 127.0.0.1:${port}`);
}

function dnsperf(port, file, secs, saturate) {
  return new Promise((resolve) => {
    // Saturation: 500 queries outstanding from 4 client sockets, no rate limit; else a fixed rate with each
    // query's latency printed (-v).
    const load = saturate ? ['-q', '500', '-c', '4'] : ['-Q', String(rate), '-c', '1', '-v'];
    const args = [
      'taskset',
      '-c',
      clientCore,
      'dnsperf',
      '-s',
      '127.0.0.1',
      '-p',
      String(port),
      '-d',
      file,
      '-l',
      String(secs),
      ...load,
      '-t',
      '2',
    ];
    const child = inNs(args);
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.on('exit', () => {
      const lat = [];
      for (const line of out.split('\n')) {
        if (!line.startsWith('> ')) continue;
        const v = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (Number.isFinite(v)) lat.push(v * 1000);
      }
      lat.sort((a, b) => a - b);
      const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : Number.NaN);
      resolve({
        completed: Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? 0),
        lost: Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? 0),
        qps: Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
        p50: pct(50),
        p99: pct(99),
      });
    });
  });
}

/** CPU µs per query of `pid` while dnsperf saturates it. */
async function cpuRun(pid, port, file) {
  await dnsperf(port, file, 1, true); // warm-up (JIT, cache)
  const before = cpuTicks(pid);
  const r = await dnsperf(port, file, seconds, true);
  const after = cpuTicks(pid);
  return { ...r, cpuUs: (((after - before) / ticksPerSecond) * 1e6) / Math.max(1, r.completed) };
}

/** Latency at the fixed rate. */
async function latencyRun(port, file) {
  await dnsperf(port, file, 1, false);
  return dnsperf(port, file, seconds, false);
}

async function fuzz(port) {
  const { corpus, mutate, rng } = await import('../dist/fuzz.js');
  // Sent from inside the namespace by a child node process, closed loop as in test/fuzz.test.ts.
  const script = `
    import { createSocket } from 'node:dgram';
    import { corpus, mutate, rng } from ${JSON.stringify(join(here, '..', 'dist', 'fuzz.js'))};
    const seeds = corpus(); const next = rng(0xbe7c4);
    const s = createSocket('udp4'); let done; let lost = 0; let answers = 0;
    const sentinel = Buffer.from(${JSON.stringify([...corpus()[0]])}); sentinel.writeUInt16BE(0xfeed, 0);
    s.on('message', (m) => { answers++; if (m.readUInt16BE(0) === 0xfeed && m.length > 40) done?.(); });
    await new Promise((r) => s.bind(0, '127.0.0.1', r));
    const t0 = Date.now();
    for (let sent = 0; sent < ${fuzzCount}; ) {
      for (let i = 0; i < 200 && sent < ${fuzzCount}; i++, sent++) {
        const p = mutate(seeds[next() % seeds.length], next);
        if (p.length >= 2 && p.readUInt16BE(0) === 0xfeed) p.writeUInt16BE(0xbeef, 0);
        s.send(p, ${port}, '127.0.0.1');
      }
      const ok = await new Promise((r) => { const tm = setTimeout(() => r(false), 1000); done = () => { clearTimeout(tm); r(true); }; s.send(sentinel, ${port}, '127.0.0.1'); });
      if (!ok) lost++;
    }
    console.log(JSON.stringify({ ms: Date.now() - t0, lost, answers }));
    s.close();
  `;
  void corpus;
  void mutate;
  void rng;
  const file = join(dir, 'fuzz.mjs');
  writeFileSync(file, script);
  const child = inNs([process.execPath, file]);
  let out = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  await new Promise((r) => child.on('exit', r));
  return JSON.parse(out.trim().split('\n').pop() ?? '{}');
}

async function main() {
  sh('ip', ['netns', 'add', ns]);
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  // The upstream: NSD, wildcard answers with TTL 0 (never cached: every query a miss), www with TTL 300 (hits).
  writeFileSync(
    join(dir, 'zone'),
    [
      '$ORIGIN example.test.',
      '$TTL 300',
      '@ IN SOA ns hostmaster 1 3600 600 86400 60',
      '@ IN NS ns',
      'ns IN A 192.0.2.1',
      'www IN A 192.0.2.80',
      '* 0 IN A 192.0.2.99',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'nsd.conf'),
    `server:\n  ip-address: 127.0.0.1@5300\n  database: ""\n  zonelistfile: ${dir}/zl\n  pidfile: ${dir}/nsd.pid\n  xfrdfile: ${dir}/xfrd\n  xfrdir: ${dir}\n  username: ""\n  chroot: ""\n  server-count: 1\n  verbosity: 0\n  rrl-ratelimit: 0\nremote-control:\n  control-enable: no\nzone:\n  name: example.test\n  zonefile: ${dir}/zone\n`,
  );
  inNs(['taskset', '-c', clientCore, 'nsd', '-d', '-c', join(dir, 'nsd.conf')]);
  await waitUdp(5300);
  const files = { hit: join(dir, 'hit.txt'), miss: join(dir, 'miss.txt') };
  writeFileSync(files.hit, 'www.example.test A\n');
  writeFileSync(files.miss, Array.from({ length: rate * (seconds + 2) }, (_, i) => `m${i}.example.test A\n`).join(''));

  // Measure what ships: one esbuild bundle with the addon next to it, as mk/stage.mjs installs it, under the
  // node flags the installed wrapper passes (package.json "meshwan.nodeFlags").
  const manifest = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8'));
  const nodeFlags = manifest.meshwan?.nodeFlags ?? [];
  const wanArgs = (port) => [
    '--listen',
    `127.0.0.1:${port}`,
    '--server',
    '127.0.0.1:5300',
    '--cache-size',
    '150',
    '--control',
    join(dir, `ctl${port}`),
  ];
  const forwarders = [];
  const startBundle = (name, packageDir, port, flags = nodeFlags) => {
    const out = join(dir, `b${port}`);
    mkdirSync(out);
    sh(join(here, '..', '..', '..', 'node_modules', '.bin', 'esbuild'), [
      join(packageDir, 'bin', 'wan-dns.js'),
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--target=node20',
      `--outfile=${join(out, 'wan-dns.mjs')}`,
      '--external:*.node',
      '--log-level=warning',
      "--banner:js=import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    ]);
    copyFileSync(join(packageDir, '..', 'os', 'build', 'netio.node'), join(out, 'netio.node'));
    const child = inNs(['taskset', '-c', forwarderCore, process.execPath, ...flags, join(out, 'wan-dns.mjs'), ...wanArgs(port)]);
    forwarders.push({ name, pid: child.pid, port, child });
    return child;
  };
  const wan = startBundle('wan-dns', join(here, '..'), 5454);
  // What the router runs: src/main.ts bundled for QuickJS (mk/bundle.mjs), compiled to bytecode by meshwan-js
  // (--compile, as the package installs /usr/lib/meshwan/wan-dns.qbc) and run by build/host/meshwan-js.
  const repo = join(here, '..', '..', '..');
  const engine = join(repo, 'build', 'host', 'meshwan-js');
  const { bundleFor } = await import(join(repo, 'mk', 'bundle.mjs'));
  await bundleFor(join(here, '..', 'src', 'main.ts'), join(dir, 'wan-dns.quickjs.mjs'), 'quickjs');
  sh(engine, ['--compile', join(dir, 'wan-dns.quickjs.mjs'), join(dir, 'wan-dns.qbc')]);
  const qjs = inNs(['taskset', '-c', forwarderCore, engine, join(dir, 'wan-dns.qbc'), ...wanArgs(5458)]);
  forwarders.push({ name: 'wan-dns on meshwan-js (QuickJS)', pid: qjs.pid, port: 5458, child: qjs });
  const dnsmasq = inNs([
    'taskset',
    '-c',
    forwarderCore,
    'dnsmasq',
    '-k',
    '-C',
    '/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--server=127.0.0.1#5300',
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--port=5455',
    '--cache-size=150',
    '--user=root',
    `--pid-file=${dir}/dnsmasq.pid`,
  ]);
  forwarders.push({ name: 'dnsmasq', pid: dnsmasq.pid, port: 5455, child: dnsmasq });
  // --baseline DIR: an older build of this package (bin/, dist/, build/ in DIR) measured in the same run.
  if (baseline) startBundle('wan-dns (baseline)', baseline, 5457);
  for (const [i, v] of variants.entries()) startBundle(`wan-dns ${v.label}`, join(here, '..'), 5460 + i, v.flags);
  // The floor for a Node forwarder on dgram: a UDP echo (one recv, one send per query, no DNS work at all).
  writeFileSync(
    join(dir, 'echo.mjs'),
    "import { createSocket } from 'node:dgram';\nconst s = createSocket('udp4');\n" +
      "s.on('message', (m, r) => { m[2] |= 0x80; s.send(m, r.port, r.address); });\ns.bind(5456, '127.0.0.1');\n",
  );
  const echo = inNs(['taskset', '-c', forwarderCore, process.execPath, join(dir, 'echo.mjs')]);
  forwarders.push({ name: 'Node dgram echo (no DNS)', pid: echo.pid, port: 5456, child: echo, hitOnly: true });
  for (const f of forwarders) if (!f.hitOnly) await waitUdp(f.port);
  await sleep(800);
  for (const f of forwarders) {
    f.idleKb = memKb(f.pid, 'VmRSS');
    f.idleAnonKb = memKb(f.pid, 'RssAnon');
  }

  const cpu = [];
  for (const mode of ['hit', 'miss']) {
    for (const f of forwarders) {
      if (f.hitOnly && mode === 'miss') continue;
      const runs = [];
      for (let i = 0; i < rounds; i++) runs.push(await cpuRun(f.pid, f.port, files[mode]));
      runs.sort((a, b) => a.cpuUs - b.cpuUs);
      cpu.push({ f, mode, ...runs[0], all: runs.map((r) => r.cpuUs) });
    }
  }
  const lat = [];
  for (const mode of cpuOnly ? [] : ['hit', 'miss']) {
    for (const f of forwarders) {
      if (f.hitOnly) continue;
      lat.push({ f, mode, ...(await latencyRun(f.port, files[mode])) });
    }
  }
  for (const f of forwarders) {
    f.peakKb = memKb(f.pid, 'VmHWM');
    f.anonKb = memKb(f.pid, 'RssAnon');
  }
  const fz = cpuOnly ? {} : await fuzz(5454);
  const alive = wan.exitCode === null;
  const fzQjs = cpuOnly ? {} : await fuzz(5458);
  const aliveQjs = qjs.exitCode === null;
  const peakAfterFuzzQjs = memKb(qjs.pid, 'VmHWM');
  const afterFuzz = spawnSync(
    'ip',
    ['netns', 'exec', ns, 'dig', '@127.0.0.1', '-p', '5454', '+time=2', '+tries=1', '+short', 'www.example.test'],
    { encoding: 'utf8' },
  ).stdout.trim();
  const peakAfterFuzz = memKb(wan.pid, 'VmHWM');

  const mb = (kb) => (kb / 1024).toFixed(1);
  const ref = (mode) => cpu.find((r) => r.f.name === 'dnsmasq' && r.mode === mode)?.cpuUs ?? Number.NaN;
  const out = [];
  out.push(
    `Command: \`node packages/wan-dns/bench/run.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\` (via \`make bench\`), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cores} cores,`,
  );
  out.push(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} at the end (a shared machine).`);
  out.push(
    `Forwarders pinned with \`taskset -c ${forwarderCore}\`, dnsperf and NSD on core ${clientCore}; both with cache 150 and the same NSD upstream in one network namespace;`,
  );
  out.push(
    `wan-dns as shipped (esbuild bundle as \`make install\` stages it, node ${process.version}${nodeFlags.length ? ` ${nodeFlags.join(' ')}, the flags of package.json meshwan.nodeFlags` : ''}); wan-dns on meshwan-js is the QuickJS bundle of src/main.ts compiled to bytecode (meshwan-js --compile), as the router runs it. Hit: one name with TTL 300. Miss: a new name per query (TTL 0, never cached).`,
  );
  if (baseline) {
    let commit = '';
    try {
      commit = ` (commit ${readFileSync(join(baseline, 'COMMIT'), 'utf8').trim()})`;
    } catch {
      // no COMMIT file: the directory name says enough
    }
    out.push(
      `\`wan-dns (baseline)\` is the build in \`${baseline}\`${commit}: bin/, dist/, build/ of an older commit, bundled and run the same way.`,
    );
  }
  out.push('');
  out.push(
    `CPU per query at saturation (dnsperf -q 500 -c 4, no rate limit, ${seconds} s after a 1 s warm-up; the lower of ${rounds} runs): on this VM a wake-up from epoll costs ~80 µs, so at a fixed 2k qps every query pays one for any server and CPU/query measures the hypervisor; at saturation the work per query shows.`,
  );
  out.push('');
  out.push('| forwarder | mode | queries | lost | qps | CPU µs/query | runs | vs dnsmasq |');
  out.push('|---|---|---:|---:|---:|---:|---|---:|');
  for (const r of cpu) {
    out.push(
      `| ${r.f.name} | ${r.mode} | ${r.completed} | ${r.lost} | ${Math.round(r.qps)} | ${r.cpuUs.toFixed(1)} | ${r.all.map((v) => v.toFixed(1)).join(', ')} | ${(r.cpuUs / ref(r.mode)).toFixed(2)} |`,
    );
  }
  out.push('');
  if (lat.length > 0) {
    out.push(`Latency at a fixed ${rate} qps (dnsperf -Q ${rate} -c 1 -v, ${seconds} s after a 1 s warm-up):`);
    out.push('');
    out.push('| forwarder | mode | queries | lost | p50 ms | p99 ms |');
    out.push('|---|---|---:|---:|---:|---:|');
    for (const r of lat) out.push(`| ${r.f.name} | ${r.mode} | ${r.completed} | ${r.lost} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} |`);
    out.push('');
  }
  out.push(
    "Memory: RSS idle (after start) and peak (VmHWM after all rows above, before the fuzz run); anonymous RSS (the process's own memory, without the mapped node binary and libraries) idle and after the rows.",
  );
  out.push('');
  out.push('| forwarder | idle RSS MB | peak RSS MB | idle anon MB | anon after load MB |');
  out.push('|---|---:|---:|---:|---:|');
  for (const f of forwarders) out.push(`| ${f.name} | ${mb(f.idleKb)} | ${mb(f.peakKb)} | ${mb(f.idleAnonKb)} | ${mb(f.anonKb)} |`);
  out.push('');
  if (!cpuOnly)
    out.push(
      `Fuzz: ${fuzzCount.toLocaleString('en')} mutated packets against wan-dns (closed loop, a good query after every 200) in ${((fz.ms ?? 0) / 1000).toFixed(1)} s: ` +
        `${alive ? 'still running' : 'DIED'}, ${fz.lost ?? '?'} good queries lost, ${fz.answers ?? '?'} answers; afterwards \`dig www.example.test\` → ${afterFuzz || 'no answer'}; peak RSS ${mb(peakAfterFuzz)} MB.`,
    );
  if (!cpuOnly)
    out.push(
      '',
      `The same against wan-dns on meshwan-js in ${((fzQjs.ms ?? 0) / 1000).toFixed(1)} s: ${aliveQjs ? 'still running' : 'DIED'}, ${fzQjs.lost ?? '?'} good queries lost, ${fzQjs.answers ?? '?'} answers; peak RSS ${mb(peakAfterFuzzQjs)} MB.`,
    );
  process.stdout.write(`${out.join('\n')}\n`);
  // SIGTERM first: a wan-dns run with --cpu-prof (a --variant) writes its profile on a clean exit.
  for (const f of forwarders) f.child.kill('SIGTERM');
  await sleep(1500);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`wan-dns bench: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
