/** meshwan-netlink on any engine (the QuickJS bundle's entry): the CLI over the seam's proc. */
import { proc } from '@meshwan/os';
import { runNetlinkCli } from './cli.js';

const code = await runNetlinkCli(proc.argv);
// On success the program ends by itself: Node's process.exit() would drop what a full stdout pipe still queues
// (a 100k-route dump), and both engines exit 0 once the loop is empty.
if (code !== 0) proc.exit(code);
