#!/usr/bin/env node
// lib-packetmark's cost: socket() with and without the library (markprobe's C loop, median of alternating
// rounds), and a whole short program's run time (hyperfine), printed as Markdown for BENCHMARKS.md.
// Usage: node lib-packetmark/bench/run.mjs [--quick]   (as root: SO_MARK needs CAP_NET_ADMIN)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const quick = process.argv.includes('--quick');
const dir = fileURLToPath(new URL('..', import.meta.url));
const library = join(dir, 'build/libpacketmark.so');
const markprobe = join(dir, 'build/markprobe');
const made = spawnSync('make', ['-s', '-C', dir], { stdio: 'inherit' });
if (made.status !== 0) process.exit(1);

const base = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const preloaded = { ...base, LD_PRELOAD: library, LIBPACKETMARK_MARK: '0x1' };
const rounds = quick ? 3 : 9;
const calls = quick ? 2000 : 20000;

function loop(env) {
  const r = spawnSync(markprobe, ['bench', String(calls)], { env, encoding: 'utf8' });
  const fields = Object.fromEntries([...r.stdout.matchAll(/(\w+)_ns=(-?[\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
  if (r.status !== 0 || fields.inet_udp === undefined || fields.setsockopt_mark === undefined)
    throw new Error(`markprobe bench failed: ${r.stderr}${r.stdout}`);
  return fields;
}
// Best of the rounds: on a shared VM the noise only ever adds time, so the minimum is the steadiest estimate.
const best = (xs) => Math.min(...xs);

const samples = { without: [], with: [] };
for (let i = 0; i < rounds; i++) {
  samples.without.push(loop(base));
  samples.with.push(loop(preloaded));
}
const rows = [
  ['socket(AF_INET, SOCK_DGRAM)', 'inet_udp'],
  ['socket(AF_INET6, SOCK_STREAM)', 'inet6_tcp'],
  ['socket(AF_UNIX, SOCK_STREAM) (passed through)', 'unix'],
];
const out = [];
out.push(
  `Per call, best of ${rounds} alternating rounds of ${calls} calls, socket() timed, close() not (\`markprobe bench ${calls}\`, C loop):`,
  '',
);
out.push('| call | without | with LIBPACKETMARK_MARK=0x1 | difference |', '| --- | ---: | ---: | ---: |');
for (const [label, key] of rows) {
  const a = best(samples.without.map((s) => s[key]));
  const b = best(samples.with.map((s) => s[key]));
  out.push(
    `| ${label} | ${(a / 1000).toFixed(2)} µs | ${(b / 1000).toFixed(2)} µs | ${((b - a) / 1000).toFixed(2)} µs (${(((b - a) / a) * 100).toFixed(0)}%) |`,
  );
}
const mark = best(samples.without.map((s) => s.setsockopt_mark));
out.push(
  `| setsockopt(SO_MARK) alone: the work the library adds | | ${mark < 0 ? 'n/a (no CAP_NET_ADMIN)' : `${(mark / 1000).toFixed(2)} µs`} | |`,
);
out.push(
  '',
  "Differences below about 1 µs are within this shared machine's noise (the AF_UNIX row is passed through untouched); the setsockopt row is the cost itself.",
);

const hyperfine = spawnSync('sh', ['-c', 'command -v hyperfine'], { encoding: 'utf8' }).status === 0;
if (hyperfine) {
  const tmp = mkdtempSync(join(tmpdir(), 'pm-bench-'));
  const json = join(tmp, 'h.json');
  const runs = quick ? 30 : 300;
  const cmds = [`env -i ${markprobe} inet:udp`, `env -i LD_PRELOAD=${library} LIBPACKETMARK_MARK=0x1 ${markprobe} inet:udp`];
  const h = spawnSync('hyperfine', ['-N', '--warmup', '10', '--runs', String(runs), '--export-json', json, ...cmds], {
    encoding: 'utf8',
  });
  if (h.status === 0) {
    const results = JSON.parse(readFileSync(json, 'utf8')).results;
    out.push('', `Whole program (exec, load, one marked socket), \`hyperfine -N --warmup 10 --runs ${runs}\`:`, '');
    out.push('| command | mean | σ |', '| --- | ---: | ---: |');
    for (const [i, r] of results.entries()) {
      out.push(
        `| ${i === 0 ? 'markprobe inet:udp' : 'same, LD_PRELOAD=libpacketmark.so'} | ${(r.mean * 1000).toFixed(2)} ms | ${(r.stddev * 1000).toFixed(2)} ms |`,
      );
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}
out.push(
  '',
  `Command: \`node lib-packetmark/bench/run.mjs${quick ? ' --quick' : ''}\` on ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}.`,
);
process.stdout.write(`${out.join('\n')}\n`);
