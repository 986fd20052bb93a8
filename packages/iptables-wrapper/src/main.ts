/** meshwan-fw on any engine (the QuickJS bundle's entry): the CLI over the seam's proc. */
import { proc } from '@meshwan/os';
import { runFirewallCli } from './cli.js';

const code = await runFirewallCli(proc.argv);
if (code !== 0) proc.exit(code);
