/** Entry of the meshwan-reconfigure command (bin/meshwan-reconfigure.js); the logic is in cli.ts. */
import { runReconfigureCli } from './cli.js';

process.exitCode = runReconfigureCli(process.argv.slice(2));
