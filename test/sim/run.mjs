#!/usr/bin/env node
// `make sim` (after `make deps all`): bundles the simulation (test/sim/sim.ts and the topology library it shares
// with test/e2e) with esbuild into out/sim/sim.mjs, then runs it. Plain ESM: node needs no TypeScript loader.
// Usage: node test/sim/run.mjs [--keep]
import { runBundled } from '../lib/run-bundled.mjs';

await runBundled('test/sim/sim.ts', 'sim', process.argv.slice(2));
