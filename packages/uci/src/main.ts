/** The `uci` command's entry, on any engine: bin/uci.js on Node, bundled for meshwan-js (test/quickjs.test.ts). */
import { proc } from '@meshwan/os';
import { runUci } from './cli.js';

proc.exit(runUci(proc.argv));
