/**
 * wan-dns on any engine (the QuickJS bundle's entry, staged as /usr/lib/meshwan/wan-dns.qbc): the CLI over the
 * seam, signals included (SIGHUP reload, SIGUSR1 status, SIGTERM and SIGINT stop). bin/wan-dns.js is Node's entry.
 */
import { proc, signals } from '@meshwan/os';
import { runCli } from './cli.js';

const code = await runCli(proc.argv, {
  onSignal: (name, fn) => {
    signals.on(name, fn);
  },
});
// -1: the daemon runs on until a signal ends it; otherwise the exit code, at once.
if (code >= 0) proc.exit(code);
