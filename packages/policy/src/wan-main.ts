/** meshwan-wan on any engine (the QuickJS bundle's entry, and bin/meshwan-wan.js's): the CLI over the seam's proc. */
import { proc } from '@meshwan/os';
import { runWanCli } from './wan-cli.js';

// No top-level await: once CMD runs, the call never settles (on Node the process ends with CMD's child; a module
// whose top-level await is left pending would make Node exit 13 instead).
void runWanCli(proc.argv).then((code) => proc.exit(code));
