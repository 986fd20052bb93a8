#!/usr/bin/env node
import { defaultIo, runNetlinkCli } from '../dist/cli.js';

// `monitor` ends on SIGINT or SIGTERM, closing its sockets and exiting 0 (src/main.ts is the engine-free entry).
const stop = new AbortController();
const abort = () => stop.abort();
process.once('SIGINT', abort);
process.once('SIGTERM', abort);
process.exitCode = await runNetlinkCli(process.argv.slice(2), { ...defaultIo, signal: stop.signal });
process.off('SIGINT', abort);
process.off('SIGTERM', abort);
