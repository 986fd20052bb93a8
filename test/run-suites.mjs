#!/usr/bin/env node
// Runs the test suites (each workspace package's test/, then the cross-package suites in test/), each test file
// by node directly (tap is the test library; see runDirect for why not tap's runner), and ends with the one line
// CI reads: "N passed, N failed[, N skipped]".
// Two tiers. `--tier=all` (make test, as root): every test file, suites two at a time (they share nothing: each
// netns test has its own namespaces), and each package's coverage checked against its own threshold
// (package.json "meshwan": {"coverageLines": N}) over its src/ only; a package below it fails the run.
// `--tier=unit` (make check, any user): only files that need neither root nor namespaces, no coverage gate (the
// gate belongs to the whole run). A file that needs root says so in a line of its own: `// tier: root`.
// lib-packetmark is C: its suite drives the built library, and has no TypeScript src/ to gate.
// Usage: node test/run-suites.mjs [--tier=all|unit] [--jobs=N] [SUITE_DIR...]   (default: all suites)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const c8Bin = join(root, 'node_modules', 'c8', 'bin', 'c8.js');
const logDir = join(root, 'out', 'test');
mkdirSync(logDir, { recursive: true });

const rootTier = /^\/\/ tier: root\b/m;

// What only a root test can do. A file that uses it without saying `// tier: root` would fail make check as any
// other user, or, worse, skip there: the runner refuses it instead.
const rootOnlyUse = /\bisRoot\(|\bmissingPart\b|\bgetuid\(|\bcreateNamespace\(|\bip netns\b|'netns'/;

// A test that skips looks green while it proves nothing: a missing part fails the file instead
// (test/lib/require.ts requireParts), so a skip guard in a test file is refused.
const skipGuard = /\bt\.skip\(|\{\s*skip\s*[,:}]|\bskip:\s/;
const skipping = [];

/** Whether a test file needs root (network namespaces, SO_MARK, firewall rules): its `// tier: root` line. */
function needsRoot(file) {
  const text = readFileSync(file, 'utf8');
  if (skipGuard.test(text)) skipping.push(relative(root, file));
  if (rootTier.test(text)) return true;
  if (rootOnlyUse.test(text)) untiered.push(relative(root, file));
  return false;
}
const untiered = [];

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'fixtures' || name === 'lib' || name === 'node_modules') continue;
    if (statSync(path).isDirectory()) found.push(...testFiles(path));
    else if (/\.test\.(ts|mjs|js)$/.test(name)) found.push(path);
  }
  return found.sort();
}

function discoverSuites() {
  const suites = [];
  const packageDirs = readdirSync(join(root, 'packages'))
    .map((name) => join(root, 'packages', name))
    .concat([join(root, 'upgrade-scripts'), join(root, 'lib-packetmark')]);
  for (const dir of packageDirs) {
    if (testFiles(join(dir, 'test')).length > 0) suites.push(dir);
  }
  if (testFiles(join(root, 'test')).length > 0) suites.push(join(root, 'test'));
  return suites;
}

// Test files run directly by node with mk/ts-register.mjs (esbuild strips the types), not through tap's runner:
// that runner and its ts-node cost about 5 s of CPU a file against about 1.5 here, which alone was a third of
// make test. tap stays the test library (each file's `t`, its TAP output and summary).
// `--tier=all`: one process a file (root tests own namespaces and daemons; nothing is shared), `directJobs` at a
// time per suite, under V8's coverage (NODE_V8_COVERAGE, which the children the tests start inherit, as the
// commands they run do), reported by c8 over the package's src/ (through the bundles' and dist's source maps).
// `--tier=unit` (make check): a suite's files dealt into two batches, each one process (test/run-unit-batch.mjs):
// tap's and the loader's start-up once a batch; largest file first, each to the lighter batch (size stands in for
// cost: tap cannot time a file inside a batch).
const register = join(root, 'mk', 'ts-register.mjs');
const batchRunner = join(root, 'test', 'run-unit-batch.mjs');
const directJobs = Math.max(2, cpus().length);
// A netns file starts real daemons and tools; on a loaded 2-core machine one can legitimately need minutes.
const fileTimeoutMs = 600_000;

function runBatch(dir, files, extraEnv) {
  return new Promise((done) => {
    // tap's own timeout for the process's tests (its default is 30 s): a file 300 s, as tap's runner was told; a
    // batch of files none (the kill timer below bounds it).
    const tapTimeout = files.length === 1 ? '300' : '0';
    const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', TERM: 'dumb', TAP: '1', TAP_TIMEOUT: tapTimeout, ...extraEnv };
    const child = spawn(process.execPath, ['--import', register, batchRunner, ...files], { cwd: dir, env });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), fileTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const killed = signal === 'SIGKILL' ? `\n# killed after ${fileTimeoutMs / 1000} s\n` : '';
      done({ code: code ?? (signal ? 128 : 1), output: `${Buffer.concat(chunks).toString('utf8')}${killed}` });
    });
  });
}

/** Deals `files` into `count` batches of about equal size (largest first, each to the lightest batch). */
function deal(files, count) {
  const cost = (f) => statSync(f).size;
  const batches = Array.from({ length: count }, () => ({ files: [], cost: 0 }));
  for (const f of [...files].sort((a, b) => cost(b) - cost(a))) {
    const lightest = batches.reduce((a, b) => (b.cost < a.cost ? b : a));
    lightest.files.push(f);
    lightest.cost += cost(f);
  }
  return batches.filter((b) => b.files.length > 0).map((b) => b.files);
}

/** Runs the batches, `directJobs` at a time; sums their tap summaries (a batch without one is a failure). */
async function runDirect(dir, batches, logFile, extraEnv = {}) {
  const queue = [...batches];
  const results = [];
  await Promise.all(
    Array.from({ length: Math.min(directJobs, queue.length) }, async () => {
      for (let b = queue.shift(); b !== undefined; b = queue.shift()) results.push(await runBatch(dir, b, extraEnv));
    }),
  );
  let pass = 0;
  let fail = 0;
  let skip = 0;
  let code = 0;
  for (const r of results) {
    const one = parseSummary(r.output);
    // A batch that printed no summary (a crash before its tests ended) counts as a failure of its own.
    if (!one.found) fail += 1;
    pass += one.pass;
    fail += one.fail;
    skip += one.skip;
    if (r.code !== 0) code = r.code;
  }
  const output = `${results.map((r) => r.output).join('\n')}\n# { total: ${pass + fail + skip}, pass: ${pass}, fail: ${fail}, skip: ${skip} }\n`;
  writeFileSync(logFile, output);
  return { code, output };
}

/** c8's line coverage of `dir`'s src/ from the V8 coverage in `v8Dir`, as a percentage (undefined: none). */
function coverageOf(dir, v8Dir, reportDir) {
  const report = spawnSync(
    process.execPath,
    [
      c8Bin,
      'report',
      '--temp-directory',
      v8Dir,
      '--reporter=json-summary',
      '--report-dir',
      reportDir,
      '--include',
      'src/**',
      '--exclude-after-remap',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  const reportFile = join(reportDir, 'coverage-summary.json');
  if (report.status !== 0 || !existsSync(reportFile)) return undefined;
  const summary = JSON.parse(readFileSync(reportFile, 'utf8'));
  const srcDir = `${join(dir, 'src')}/`;
  let total = 0;
  let covered = 0;
  for (const [file, entry] of Object.entries(summary)) {
    if (!file.startsWith(srcDir)) continue;
    total += entry.lines.total;
    covered += entry.lines.covered;
  }
  return total === 0 ? undefined : (100 * covered) / total;
}

function parseSummary(output) {
  // tap's last summary line: "# { total: 78, pass: 77, fail: 1, skip: 2, todo: 0 }"
  const lines = output
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('# { total:'));
  const last = lines[lines.length - 1];
  const count = (key) => {
    const m = last ? new RegExp(`\\b${key}: (\\d+)`).exec(last) : null;
    return m ? Number(m[1]) : 0;
  };
  return { found: Boolean(last), pass: count('pass'), fail: count('fail'), skip: count('skip') + count('todo') };
}

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : arg.slice(name.length + 3);
};
const tier = option('tier', 'all');
// Two lanes: the machine has two cores, and a netns suite spends much of its time waiting on the kernel and daemons.
const jobs = Number(option('jobs', '2'));
if (!['all', 'unit'].includes(tier) || !Number.isInteger(jobs) || jobs < 1) {
  console.error('usage: node test/run-suites.mjs [--tier=all|unit] [--jobs=N] [SUITE_DIR...]');
  process.exit(2);
}
const requested = args.filter((a) => !a.startsWith('--')).map((d) => resolve(d));
const suites = requested.length > 0 ? requested : discoverSuites();
let passed = 0;
let failed = 0;
let skipped = 0;
let rootOnly = 0;
const problems = [];

/**
 * A suite's files for `make test`, likely longest first so the lanes end together: files that need root first
 * (namespaces and daemons: they wait on events, the longest by far), then the larger first. A fresh clone (CI's)
 * has no timings of its own to go by.
 */
function byExpectedLength(files) {
  const key = (f) => [rootTier.test(readFileSync(f, 'utf8')) ? 1 : 0, statSync(f).size];
  return [...files].sort((a, b) => {
    const [ra, sa] = key(a);
    const [rb, sb] = key(b);
    return rb - ra || sb - sa;
  });
}

async function runSuite(dir) {
  const name = relative(root, dir) || '.';
  const all = testFiles(join(dir, dir === join(root, 'test') ? '' : 'test'));
  const files = all.filter((f) => tier === 'all' || !needsRoot(f));
  if (tier === 'all') for (const f of all) needsRoot(f);
  rootOnly += all.length - files.length;
  if (files.length === 0) return;
  const logFile = join(logDir, `${name.replaceAll('/', '_')}.log`);
  const started = Date.now();
  const manifest = join(dir, 'package.json');
  // The cross-package suite drives built commands end to end; coverage is gated per package, not there.
  const gated = tier === 'all' && dir !== join(root, 'test') && existsSync(manifest);
  const coverageDir = join(logDir, 'coverage', name.replaceAll('/', '_'));
  rmSync(coverageDir, { recursive: true, force: true });
  const { code, output } =
    tier === 'unit'
      ? await runDirect(dir, deal(files, Math.min(directJobs, files.length)), logFile)
      : await runDirect(
          dir,
          byExpectedLength(files).map((f) => [f]),
          logFile,
          gated ? { NODE_V8_COVERAGE: join(coverageDir, 'v8') } : {},
        );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  durations[name] = Number(seconds);
  const summary = parseSummary(output);
  passed += summary.pass;
  failed += summary.fail;
  skipped += summary.skip;
  let status = code === 0 && summary.fail === 0 ? 'ok' : 'FAIL';
  if (!summary.found) {
    failed += 1;
    status = 'FAIL';
    problems.push(`${name}: a test file printed no summary (exit ${code})`);
  } else if (code !== 0 && summary.fail === 0) {
    failed += 1;
    problems.push(`${name}: a test file exited ${code} with no failed assertion (a crash or timeout?)`);
  }
  let coverageNote = '';
  if (gated) {
    const threshold = JSON.parse(readFileSync(manifest, 'utf8')).meshwan?.coverageLines;
    const lines = coverageOf(dir, join(coverageDir, 'v8'), join(coverageDir, 'report'));
    if (typeof threshold === 'number') {
      coverageNote = lines === undefined ? ' coverage: none measured' : ` lines ${lines.toFixed(1)}% (min ${threshold}%)`;
      if (lines === undefined || lines < threshold) {
        failed += 1;
        status = 'FAIL';
        problems.push(
          `${name}: line coverage ${lines === undefined ? 'not measured' : `${lines.toFixed(1)}%`} is below its threshold ${threshold}%`,
        );
      }
    }
  }
  console.log(
    `${status.padEnd(4)} ${name.padEnd(28)} ${String(summary.pass).padStart(5)} passed ${String(summary.fail).padStart(3)} failed ${String(summary.skip).padStart(3)} skipped ${seconds.padStart(6)}s${coverageNote}`,
  );
  if (status !== 'ok') {
    const tail = output.split('\n').slice(-80).join('\n');
    console.log(`---- ${name}: last lines of ${relative(root, logFile)} ----\n${tail}\n---- end ${name} ----`);
  }
}

// Longest suites first (as the last run of this tier measured them, out/test/durations[-unit].json; else by their
// number of test files), so the lanes end together. Each tier keeps its own: a suite's share differs between them.
const durationsFile = join(logDir, tier === 'all' ? 'durations.json' : 'durations-unit.json');
const lastDurations = existsSync(durationsFile) ? JSON.parse(readFileSync(durationsFile, 'utf8')) : {};
const weight = (dir) => lastDurations[relative(root, dir) || '.'] ?? testFiles(join(dir, 'test')).length;
const queue = [...suites].sort((a, b) => weight(b) - weight(a));
const durations = { ...lastDurations };
await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) await runSuite(dir);
  }),
);
for (const file of untiered) problems.push(`${file}: needs root (namespaces, SO_MARK, firewall) but has no '// tier: root' line`);
failed += untiered.length;
for (const file of skipping) problems.push(`${file}: has a skip guard; a missing part must fail the test (requireParts)`);
failed += skipping.length;
writeFileSync(durationsFile, `${JSON.stringify(durations, null, 2)}\n`);
if (tier === 'unit') console.log(`(${rootOnly} test files need root and run only in make test)`);
for (const p of problems) console.log(`problem: ${p}`);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
