#!/usr/bin/env node
// `make bench`: runs every benchmark (packages/*/bench/run.mjs, lib-packetmark/bench/run.mjs, test/bench/*.mjs) and
// rewrites its block in BENCHMARKS.md. A benchmark prints Markdown on stdout: its table(s) and the command that
// produced them. Its block is the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, NAME being the
// benchmark's directory (e.g. packages/wan-dns); a new benchmark's block is appended.
// Usage: node mk/bench.mjs [NAME...]   (default: all)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const benchFile = join(root, 'BENCHMARKS.md');

function discover() {
  const found = [];
  for (const name of readdirSync(join(root, 'packages'))) {
    const script = join(root, 'packages', name, 'bench', 'run.mjs');
    if (existsSync(script)) found.push(script);
  }
  for (const dir of ['lib-packetmark', 'upgrade-scripts', 'test']) {
    const script = join(root, dir, 'bench', 'run.mjs');
    if (existsSync(script)) found.push(script);
  }
  return found;
}

const wanted = process.argv.slice(2);
let text = readFileSync(benchFile, 'utf8');
let failures = 0;
for (const script of discover()) {
  const name = relative(root, join(script, '..', '..'));
  if (wanted.length > 0 && !wanted.includes(name)) continue;
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
