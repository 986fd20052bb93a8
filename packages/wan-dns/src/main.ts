/** Entry point of the `wan-dns` command (bin/wan-dns.js imports this). */
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2));
// -1: the daemon runs on; it exits from its signal handlers.
if (code >= 0) process.exitCode = code;
