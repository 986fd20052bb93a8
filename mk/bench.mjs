#!/usr/bin/env node
// `make bench`: runs every benchmark (packages/*/bench/run.mjs, lib-packetmark/bench/run.mjs, feed/bench/run.mjs, test/bench/*.mjs) and
// rewrites its block in BENCHMARKS.md. A benchmark prints Markdown on stdout: its table(s) and the command that
// produced them. Its block is the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, NAME being the
// benchmark's directory (e.g. packages/wan-dns); a new benchmark's block is appended.
// A package's bench/engines.mjs (meshwan-js against Node, root, minutes) has the block `packages/NAME engines` and
// runs only when named: node mk/bench.mjs 'packages/netlink engines'.
// Usage: node mk/bench.mjs [NAME...]   (default: all but the engines benchmarks)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const benchFile = join(root, 'BENCHMARKS.md');

/** [name, script, onlyWhenNamed] for every benchmark. */
function discover() {
  const found = [];
  for (const name of readdirSync(join(root, 'packages'))) {
    const script = join(root, 'packages', name, 'bench', 'run.mjs');
    if (existsSync(script)) found.push([`packages/${name}`, script, false]);
    const engines = join(root, 'packages', name, 'bench', 'engines.mjs');
    if (existsSync(engines)) found.push([`packages/${name} engines`, engines, true]);
  }
  for (const dir of ['lib-packetmark', 'upgrade-scripts', 'feed', 'test']) {
    const script = join(root, dir, 'bench', 'run.mjs');
    if (existsSync(script)) found.push([dir, script, false]);
  }
  return found;
}

const wanted = process.argv.slice(2);
let text = readFileSync(benchFile, 'utf8');
let failures = 0;
for (const [name, script, onlyWhenNamed] of discover()) {
  if (wanted.length > 0 ? !wanted.includes(name) : onlyWhenNamed) continue;
  console.log(`bench: ${name}`);
  const result = spawnSync(process.execPath, [script], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  if (result.status !== 0) {
    console.error(`bench: ${name} failed (exit ${result.status}); its block is left as it was`);
    failures++;
    continue;
  }
  const block = `<!-- bench:${name} -->\n${result.stdout.trim()}\n<!-- /bench:${name} -->`;
  const pattern = new RegExp(`<!-- bench:${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} -->[\\s\\S]*?<!-- /bench:[^>]+ -->`);
  text = pattern.test(text) ? text.replace(pattern, block) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(benchFile, text);
  process.stdout.write(`${result.stdout.trim()}\n\n`);
}
process.exitCode = failures > 0 ? 1 : 0;
