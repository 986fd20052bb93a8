#!/usr/bin/env node
// `make bench` (node mk/bench.mjs packages/os): the engine on the router beside Node. Prints Markdown:
//  - meshwan-js's size per target (stripped, and xz as a squashfs packs it), and the netio module alone;
//  - idle RSS of a process that only waits on a timer (meshwan-js host builds, node);
//  - start-up of a no-op and of a ~340 KB bundle (every package's library code, esbuild, whitespace-minified),
//    from source and from bytecode (`meshwan-js --compile`), beside `node -e 0` (hyperfine).
// Cross builds are made first (make -C packages/os TARGET=…). Timings are host (x86-64) timings: qemu-user's are
// not a router's, so none are given for the MIPS builds.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packageDir = resolve(fileURLToPath(new URL('..', import.meta.url)));
const root = resolve(packageDir, '..', '..');
const out = join(root, 'out', 'bench-os');
mkdirSync(out, { recursive: true });

const targets = [
  ['host', 'strip', 'x86-64, glibc, dynamic, -O2'],
  ['host-musl', 'strip', 'x86-64, musl, static (libc included), -Os'],
  ['mips_24kc', 'mips-linux-gnu-strip', 'MIPS BE (ath79), glibc, dynamic, -Os -march=24kc'],
  ['mipsel_24kc', 'mipsel-linux-gnu-strip', 'MIPS LE (ramips), glibc, dynamic, -Os -march=24kc'],
  ['aarch64', 'aarch64-linux-gnu-strip', 'aarch64, glibc, dynamic, -Os'],
];
const engine = (target) => join(root, 'build', target, 'meshwan-js');

function make(target, goal) {
  execFileSync('make', ['--no-print-directory', '-C', packageDir, `TARGET=${target}`, goal], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
function sizes(file, strip) {
  const stripped = join(out, `${file.replaceAll('/', '_')}.stripped`);
  execFileSync(strip, ['-o', stripped, file]);
  const xz = execFileSync('xz', ['-9', '-c', stripped], { maxBuffer: 64 << 20 });
  return { stripped: statSync(stripped).size, xz: xz.length };
}

const lines = [];
lines.push('### os: QuickJS engine (meshwan-js = QuickJS 2025-04-26 + std/os + meshwan:netio)', '');
lines.push('| target | build | stripped | xz -9 |', '|---|---|---:|---:|');
for (const [target, strip, what] of targets) {
  make(target, engine(target));
  const s = sizes(engine(target), strip);
  lines.push(`| ${target} | ${what} | ${kb(s.stripped)} | ${kb(s.xz)} |`);
}
make('mips_24kc', join(root, 'build', 'mips_24kc', 'netio.so'));
const so = sizes(join(root, 'build', 'mips_24kc', 'netio.so'), 'mips-linux-gnu-strip');
lines.push(`| mips_24kc | netio.so alone (the module qjs would load instead) | ${kb(so.stripped)} | ${kb(so.xz)} |`);
lines.push(`| host | \`node\` (for scale) | ${kb(statSync(process.execPath).size)} | |`);

// Idle RSS: the process waits on a 3 s timer after printing a line; VmRSS is read from /proc while it waits.
function idleRss(command) {
  return new Promise((done, failed) => {
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', failed);
    child.stdout.once('data', () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kbRss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
      child.kill('SIGTERM');
      done(kbRss);
    });
  });
}
const idleJs = join(out, 'idle.js');
writeFileSync(idleJs, "import * as os from 'os';\nconsole.log('ready');\nos.setTimeout(() => {}, 3000);\n");
const rss = [
  ['meshwan-js (host, glibc)', await idleRss([engine('host'), idleJs])],
  ['meshwan-js (host-musl, static)', await idleRss([engine('host-musl'), idleJs])],
  ['node', await idleRss([process.execPath, '-e', "console.log('ready'); setTimeout(() => {}, 3000)"])],
];
lines.push('', '| idle process (waits on a timer) | RSS |', '|---|---:|');
for (const [what, value] of rss) lines.push(`| ${what} | ${(value / 1024).toFixed(1)} MB |`);

// The bundle: every package's library entry, Node's built-ins replaced by inert stand-ins (QuickJS has none;
// the next wave ports the packages onto @meshwan/os), so loading it measures parse, compile and module evaluation.
const entry = join(out, 'entry.mjs');
const libs = ['site', 'uci', 'netlink', 'iptables-wrapper', 'wan-dns', 'uplinks', 'policy'];
writeFileSync(entry, libs.map((p) => `export * as ${p.replace('-', '_')} from '${root}/packages/${p}/dist/index.js';\n`).join(''));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const stubs = {
  name: 'node-stubs',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (builtins.has(args.path) ? { path: args.path, namespace: 'stub' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, async (args) => {
      const names = Object.keys(await import(args.path.startsWith('node:') ? args.path : `node:${args.path}`));
      const any = 'const any = new Proxy(function () {}, { get: () => any, apply: () => any, construct: () => any });';
      return { contents: `${any}\nmodule.exports = { ${names.map((n) => `${JSON.stringify(n)}: any`).join(', ')} };`, loader: 'js' };
    });
  },
};
const bundleBody = join(out, 'bundle-body.js');
await build({
  entryPoints: [entry],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  minifyWhitespace: true,
  outfile: bundleBody,
  plugins: [stubs],
  logLevel: 'error',
});
const prelude = [
  "globalThis.process = { env: {}, argv: [], platform: 'linux', versions: {}, nextTick: (f) => Promise.resolve().then(f) };",
  'const bytes = (n) => new Uint8Array(n);',
  'globalThis.Buffer = { allocUnsafe: bytes, alloc: bytes, allocUnsafeSlow: bytes, from: (x) => new Uint8Array(x), isBuffer: () => false };',
].join('\n');
const bundle = join(out, 'bundle.js');
writeFileSync(bundle, `${prelude}\n${readFileSync(bundleBody, 'utf8')}`);
const noop = join(out, 'noop.js');
writeFileSync(noop, '');
for (const f of [noop, bundle]) execFileSync(engine('host'), ['--compile', f, f.replace(/\.js$/, '.qbc')]);
const loads = spawnSync(engine('host'), [bundle], { encoding: 'utf8' });
if (loads.status !== 0) throw new Error(`the bundle does not load on meshwan-js: ${loads.stderr}`);

const cases = [
  ['meshwan-js no-op (source)', `${engine('host')} ${noop}`],
  ['meshwan-js no-op (bytecode)', `${engine('host')} ${noop.replace(/\.js$/, '.qbc')}`],
  [`meshwan-js bundle, ${kb(statSync(bundle).size)} source`, `${engine('host')} ${bundle}`],
  [
    `meshwan-js bundle, ${kb(statSync(bundle.replace(/\.js$/, '.qbc')).size)} bytecode`,
    `${engine('host')} ${bundle.replace(/\.js$/, '.qbc')}`,
  ],
  ['meshwan-js (musl) bundle, bytecode', `${engine('host-musl')} ${bundle.replace(/\.js$/, '.qbc')}`],
  ['node -e 0', `${process.execPath} -e 0`],
];
const json = join(out, 'hyperfine.json');
execFileSync('hyperfine', ['-N', '--warmup', '3', '--runs', '40', '--export-json', json, ...cases.map(([, c]) => c)], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const results = JSON.parse(readFileSync(json, 'utf8')).results;
// The machine is shared and busy: the minimum is the figure least disturbed by other load; mean and σ show the noise.
const ms = (x) => `${(x * 1000).toFixed(1)} ms`;
lines.push('', '| start-up (host, hyperfine -N, 40 runs) | min | median | mean ± σ |', '|---|---:|---:|---:|');
cases.forEach(([what], i) => {
  const r = results[i];
  lines.push(`| ${what} | ${ms(r.min)} | ${ms(r.median)} | ${ms(r.mean)} ± ${ms(r.stddev)} |`);
});
lines.push(
  '',
  "`node mk/bench.mjs packages/os` (packages/os/bench/run.mjs). Sizes are of `build/TARGET/meshwan-js` after the target's strip; RSS is VmRSS while the process waits on a timer.",
);
console.log(lines.join('\n'));
