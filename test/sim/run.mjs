#!/usr/bin/env node
// `make sim` (after `make deps all`): bundles the simulation (test/sim/sim.ts and the topology library it shares
// with test/e2e) with esbuild into out/sim/sim.mjs, then runs it. Plain ESM: node needs no TypeScript loader.
// Usage: node test/sim/run.mjs [--keep]
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const outfile = join(root, 'out/sim/sim.mjs');
mkdirSync(join(root, 'out/sim'), { recursive: true });
await build({
  entryPoints: [join(root, 'test/sim/sim.ts')],
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
