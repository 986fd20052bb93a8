/**
 * wan-dns on any engine (the QuickJS bundle's entry, staged as /usr/lib/meshwan/wan-dns.qbc): the CLI over the
 * seam. bin/wan-dns.js is Node's entry. Signals (SIGHUP reload, SIGUSR1 status, SIGTERM stop) come from the seam's
 * `signals` (packages/os proc-api.ts, added beside this work): looked up by name so this entry builds with or
 * without it; without it SIGTERM and SIGINT end the process by their default action, and the source files are
 * still re-read once a second.
 */
import * as os from '@meshwan/os';
import { type CliHost, runCli } from './cli.js';

type SignalName = Parameters<NonNullable<CliHost['onSignal']>>[0];

function seamSignals(): CliHost['onSignal'] {
  const signals: unknown = Reflect.get(os, 'signals');
  const on: unknown = signals && typeof signals === 'object' ? Reflect.get(signals, 'on') : undefined;
  if (typeof on !== 'function') return undefined;
  return (name: SignalName, fn: () => void) => {
    Reflect.apply(on, signals, [name, fn]);
  };
}

const code = await runCli(os.proc.argv, { onSignal: seamSignals() });
// -1: the daemon runs on until a signal ends it; otherwise the exit code, at once.
if (code >= 0) os.proc.exit(code);
