#!/usr/bin/env node
// Bench of wan-dns against dnsmasq, in the same run and the same network namespace, with the same NSD upstream:
// dnsperf at a fixed rate (2k qps) in cache-hit and cache-miss modes, each forwarder pinned to one core
// (taskset), dnsperf on another. Reports forwarder CPU µs per query (utime+stime delta from /proc/PID/stat over
// queries completed: steadier than qps on a shared machine), p50/p99 latency from dnsperf -v, idle and peak RSS
// (VmRSS after start, VmHWM at the end), then a fuzz run (1M hostile packets; 100k with --quick) against wan-dns.
// Prints a Markdown section for BENCHMARKS.md (mk/bench.mjs puts it between the bench:wan-dns markers).
// Usage: node packages/wan-dns/bench/run.mjs [--quick]        (root; needs nsd, dnsperf, dnsmasq, taskset)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const quick = process.argv.includes('--quick');
const seconds = quick ? 3 : 10;
const rate = 2000;
const fuzzCount = quick ? 100_000 : 1_000_000;
const here = new URL('.', import.meta.url).pathname;
const bin = join(here, '..', 'bin', 'wan-dns.js');
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

function dnsperf(port, file, secs) {
  return new Promise((resolve) => {
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
      '-Q',
      String(rate),
      '-c',
      '1',
      '-t',
      '2',
      '-v',
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
        noerror: /Response codes:\s+NOERROR (\d+)/.exec(out)?.[1] ?? '0',
        p50: pct(50),
        p99: pct(99),
      });
    });
  });
}

async function measure(name, pid, port, mode, files) {
  const file = mode === 'hit' ? files.hit : files.miss;
  await dnsperf(port, file, 1); // warm-up (JIT, cache)
  const before = cpuTicks(pid);
  const r = await dnsperf(port, file, seconds);
  const after = cpuTicks(pid);
  const cpuUs = (((after - before) / ticksPerSecond) * 1e6) / Math.max(1, r.completed);
  return { name, mode, ...r, cpuUs, peakKb: memKb(pid, 'VmHWM') };
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

  // Measure what ships: one esbuild bundle with the addon next to it, as mk/stage.mjs installs it.
  const bundle = join(dir, 'wan-dns.mjs');
  sh(join(here, '..', '..', '..', 'node_modules', '.bin', 'esbuild'), [
    bin,
    '--bundle',
    '--platform=node',
    '--format=esm',
    `--outfile=${bundle}`,
    '--log-level=warning',
    "--banner:js=import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  ]);
  copyFileSync(join(here, '..', 'build', 'sockmark.node'), join(dir, 'sockmark.node'));
  const wan = inNs([
    'taskset',
    '-c',
    forwarderCore,
    process.execPath,
    bundle,
    '--listen',
    '127.0.0.1:5454',
    '--server',
    '127.0.0.1:5300',
    '--cache-size',
    '150',
    '--control',
    join(dir, 'ctl'),
  ]);
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
  // The floor for any Node forwarder: a UDP echo (one recv, one send per query, no DNS work at all).
  writeFileSync(
    join(dir, 'echo.mjs'),
    "import { createSocket } from 'node:dgram';\nconst s = createSocket('udp4');\n" +
      "s.on('message', (m, r) => { m[2] |= 0x80; s.send(m, r.port, r.address); });\ns.bind(5456, '127.0.0.1');\n",
  );
  const echo = inNs(['taskset', '-c', forwarderCore, process.execPath, join(dir, 'echo.mjs')]);
  await waitUdp(5454);
  await waitUdp(5455);
  await sleep(500);
  const idle = { 'wan-dns': memKb(wan.pid, 'VmRSS'), dnsmasq: memKb(dnsmasq.pid, 'VmRSS') };
  const rows = [];
  await sleep(300);
  idle['Node UDP echo (floor)'] = memKb(echo.pid, 'VmRSS');
  rows.push(await measure('Node UDP echo (floor)', echo.pid, 5456, 'hit', files));
  for (const mode of ['hit', 'miss']) {
    rows.push(await measure('dnsmasq', dnsmasq.pid, 5455, mode, files));
    rows.push(await measure('wan-dns', wan.pid, 5454, mode, files));
  }
  const f = await fuzz(5454);
  const alive = wan.exitCode === null;
  const afterFuzz = spawnSync(
    'ip',
    ['netns', 'exec', ns, 'dig', '@127.0.0.1', '-p', '5454', '+time=2', '+tries=1', '+short', 'www.example.test'],
    { encoding: 'utf8' },
  ).stdout.trim();
  const peakAfterFuzz = memKb(wan.pid, 'VmHWM');

  const mb = (kb) => (kb / 1024).toFixed(1);
  const out = [];
  out.push(
    `Command: \`node packages/wan-dns/bench/run.mjs${quick ? ' --quick' : ''}\` (via \`make bench\`), ${new Date().toISOString().slice(0, 10)}, ${cores} cores,`,
  );
  out.push(
    `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (a shared machine: CPU per query is the steady figure).`,
  );
  out.push(
    `dnsperf -Q ${rate} for ${seconds} s per row after a 1 s warm-up; forwarders pinned with \`taskset -c ${forwarderCore}\`, dnsperf and NSD on core ${clientCore};`,
  );
  out.push(
    'both forwarders with cache 150 and the same NSD upstream in one network namespace; wan-dns as shipped (esbuild bundle, as `make install`). Hit: one name with TTL 300. Miss: a new name per query (TTL 0).',
  );
  out.push('The first row is no DNS server: a 3-line Node UDP echo, the per-datagram floor of Node on this machine at this moment.');
  out.push('');
  out.push('| forwarder | mode | queries | lost | CPU µs/query | p50 ms | p99 ms | idle RSS MB | peak RSS MB |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    out.push(
      `| ${r.name} | ${r.mode} | ${r.completed} | ${r.lost} | ${r.cpuUs.toFixed(1)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${mb(idle[r.name])} | ${mb(r.peakKb)} |`,
    );
  }
  out.push('');
  out.push(
    `Fuzz: ${fuzzCount.toLocaleString('en')} mutated packets against wan-dns (closed loop, a good query after every 200) in ${((f.ms ?? 0) / 1000).toFixed(1)} s: ` +
      `${alive ? 'still running' : 'DIED'}, ${f.lost ?? '?'} good queries lost, ${f.answers ?? '?'} answers; afterwards \`dig www.example.test\` → ${afterFuzz || 'no answer'}; peak RSS ${mb(peakAfterFuzz)} MB.`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`wan-dns bench: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
