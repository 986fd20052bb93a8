/**
 * meshwan-uplinks on any engine (the QuickJS bundle's entry, staged as /usr/lib/meshwan/meshwan-uplinks.qbc): the
 * CLI over the seam's proc; the daemon's signals come through the seam too (cli.ts). bin/meshwan-uplinks.js is Node's.
 */
import { proc } from '@meshwan/os';
import { runUplinksCli } from './cli.js';

const code = await runUplinksCli(proc.argv);
if (code !== 0) proc.exit(code);
