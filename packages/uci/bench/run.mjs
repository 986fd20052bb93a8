#!/usr/bin/env node
// Bench for @meshwan/uci on a 10k-section config: load (parse + staged deltas), show, export, 100 edits and a
// commit, in-process; and the whole `uci show` command as a process. Prints Markdown for BENCHMARKS.md.
// Needs a build (make bench does it). --quick: 1k sections, fewer runs. UCI_REFERENCE=/path/to/uci adds the
// same command timed with OpenWrt's uci, if you have one (none is built or shipped here).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Uci } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const sections = quick ? 1000 : 10000;
const runs = quick ? 3 : 9;
const reference = process.env.UCI_REFERENCE;

/** A firewall-like config: named zones, anonymous rules with options and lists. */
function config(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    if (i % 10 === 0) {
      out.push(`config zone 'z${i}'\n\toption name 'z${i}'\n\toption input 'ACCEPT'\n\tlist network 'lan${i}'\n\tlist network 'wan${i}'\n`);
    } else {
      out.push(
        `config rule\n\toption name 'Allow-${i}'\n\toption src 'wan'\n\toption proto 'udp'\n\toption dest_port '${1024 + (i % 60000)}'\n\toption target 'ACCEPT'\n\tlist icmp_type 'echo-request'\n`,
      );
    }
  }
  return out.join('\n');
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeIt(fn) {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const root = mkdtempSync(join(tmpdir(), 'uci-bench-'));
try {
  const conf = join(root, 'conf');
  const save = join(root, 'save');
  mkdirSync(conf);
  const text = config(sections);
  writeFileSync(join(conf, 'fw'), text);
  const rows = [];
  const measure = (label, fn) => {
    const xs = [];
    for (let i = 0; i < runs; i++) xs.push(fn());
    rows.push([label, median(xs)]);
  };

  let shown = '';
  measure('load (parse + deltas)', () => timeIt(() => new Uci({ confdir: conf, savedir: save, conf2dir: null }).load('fw')));
  measure('load + show', () =>
    timeIt(() => {
      const u = new Uci({ confdir: conf, savedir: save, conf2dir: null });
      shown = u.show('fw');
    }),
  );
  measure('load + export', () => timeIt(() => new Uci({ confdir: conf, savedir: save, conf2dir: null }).export('fw')));
  measure('100 edits (staged) + commit', () => {
    writeFileSync(join(conf, 'fw'), text);
    const u = new Uci({ confdir: conf, savedir: save, conf2dir: null });
    u.load('fw');
    return timeIt(() => {
      for (let i = 0; i < 100; i++) u.set('fw', `@rule[${i * 7}]`, 'target', i % 2 ? 'DROP' : 'REJECT');
      u.commit('fw');
    });
  });
  writeFileSync(join(conf, 'fw'), text);

  const cmd = (argv) => {
    const xs = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
      xs.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    }
    return median(xs);
  };
  const bin = new URL('../bin/uci.js', import.meta.url).pathname;
  const ours = cmd([process.execPath, bin, '-c', conf, '-t', save, 'show', 'fw']);
  const empty = cmd([process.execPath, '-e', '']);
  const ref = reference ? cmd([reference, '-c', conf, '-t', save, 'show', 'fw']) : null;

  const ms = (x) => `${x.toFixed(1)} ms`;
  const out = [];
  out.push(
    `### @meshwan/uci: ${sections.toLocaleString('en')} sections (${(text.length / 1e6).toFixed(1)} MB, ${shown.split('\n').length - 1} show lines)`,
  );
  out.push('');
  out.push(
    `\`node packages/uci/bench/run.mjs${quick ? ' --quick' : ''}\` — median of ${runs} runs, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
  );
  out.push('');
  out.push('| in-process (Uci API) | time |');
  out.push('|---|---|');
  for (const [label, x] of rows) out.push(`| ${label} | ${ms(x)} |`);
  out.push('');
  out.push('| whole command | time |');
  out.push('|---|---|');
  out.push(`| \`uci show fw\` (ours: node + bundle-free dist) | ${ms(ours)} |`);
  out.push(`| \`node -e ''\` (Node start-up alone) | ${ms(empty)} |`);
  if (ref !== null) out.push(`| \`uci show fw\` (OpenWrt's uci, UCI_REFERENCE) | ${ms(ref)} |`);
  out.push('');
  const loadShow = rows.find(([l]) => l === 'load + show')?.[1] ?? 0;
  out.push(
    `Goal: load + show of 10k sections under 150 ms — ${quick ? 'not measured (--quick)' : loadShow < 150 ? `met (${ms(loadShow)})` : `NOT met (${ms(loadShow)})`}.`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
