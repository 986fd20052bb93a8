#!/usr/bin/env node
// `make bench` for the whole node: bundles test/bench/node-bench.ts (and the topology it shares with make sim and
// test/e2e) with esbuild, then runs it; it prints a Markdown block for BENCHMARKS.md. `--quick` for a smoke run.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const outfile = join(root, 'out/bench/node-bench.mjs');
mkdirSync(join(root, 'out/bench'), { recursive: true });
await build({
  entryPoints: [join(root, 'test/bench/node-bench.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  logLevel: 'error',
});
const { main } = await import(pathToFileURL(outfile).href);
process.exitCode = await main(process.argv.slice(2));
