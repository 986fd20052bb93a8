/** meshwan-netlink on any engine (the QuickJS bundle's entry): the CLI over the seam's proc. */
import { proc } from '@meshwan/os';
import { runNetlinkCli } from './cli.js';

proc.exit(await runNetlinkCli(proc.argv));
