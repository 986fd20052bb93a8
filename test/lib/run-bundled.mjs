// Runs a TypeScript entry point of the cross-package suites as plain ESM: bundled with esbuild into out/NAME/,
// then imported, and its `main(argv)` gives the exit code. Shared by `make sim` and `make bench` (test/bench),
// so node needs no TypeScript loader for either.
import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Bundles ROOT/entry (e.g. test/sim/sim.ts) into out/dir/, runs its main with argv and sets the exit code. */
export async function runBundled(entry, dir, argv) {
  const outfile = join(root, 'out', dir, basename(entry).replace(/\.ts$/, '.mjs'));
  mkdirSync(join(root, 'out', dir), { recursive: true });
  await build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    logLevel: 'error',
  });
  const { main } = await import(pathToFileURL(outfile).href);
  process.exitCode = await main(argv);
}
