/** meshwan on any engine (the QuickJS bundle's entry): the CLI over the seam's proc. bin/meshwan.js is Node's. */
import { proc } from '@meshwan/os';
import { main } from './cli.js';

const code = await main(proc.argv);
if (code !== 0) proc.exit(code);
