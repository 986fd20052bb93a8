#!/usr/bin/env node
// `make bench` for the whole node: bundles test/bench/node-bench.ts (and the topology it shares with make sim and
// test/e2e) with esbuild, then runs it; it prints a Markdown block for BENCHMARKS.md. `--quick` for a smoke run.
import { runBundled } from '../lib/run-bundled.mjs';

await runBundled('test/bench/node-bench.ts', 'bench', process.argv.slice(2));
