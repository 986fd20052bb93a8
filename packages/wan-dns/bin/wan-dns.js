#!/usr/bin/env node
// Node's entry of wan-dns (src/main.ts is the engine-free one, bundled for QuickJS): the CLI plus what only Node
// gives here so far, its signals and V8's heap limit (the cache is sized to fit it).
import { getHeapStatistics } from 'node:v8';
import { runCli } from '../dist/cli.js';

const code = await runCli(process.argv.slice(2), {
  onSignal: (name, fn) => process.on(name, fn),
  heapLimitBytes: getHeapStatistics().heap_size_limit,
});
// -1: the daemon runs on; it exits from its signal handlers.
if (code >= 0) process.exitCode = code;
