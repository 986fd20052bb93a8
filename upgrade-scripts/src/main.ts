/** meshwan-reconfigure on any engine (the QuickJS bundle's entry, and bin/meshwan-reconfigure.js's). */
import { proc } from '@meshwan/os';
import { runReconfigureCli } from './cli.js';

const code = await runReconfigureCli(proc.argv);
if (code !== 0) proc.exit(code);
