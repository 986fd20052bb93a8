/**
 * wan-dns on any engine (the QuickJS bundle's entry): the CLI over the seam. bin/wan-dns.js is Node's entry, which
 * adds what the seam does not have yet: signal handlers (SIGHUP reload, SIGUSR1 status, SIGTERM stop) and V8's
 * heap limit. Without a handler SIGTERM and SIGINT end the process as their default does.
 */
import { proc } from '@meshwan/os';
import { runCli } from './cli.js';

const code = await runCli(proc.argv);
// -1: the daemon runs on until a signal ends it; otherwise the exit code, at once.
if (code >= 0) proc.exit(code);
