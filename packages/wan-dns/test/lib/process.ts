/**
 * The wan-dns command (bin/wan-dns.js) as a process of the test: on the host (loopback only) or in a namespace,
 * optionally behind `prefix` (e.g. setpriv), stopped by PID at teardown; started once it logs that it listens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type Namespace, stopProcess, type Teardowns, waitFor } from '../../../../test/lib/netns.js';

export const bin = new URL('../../bin/wan-dns.js', import.meta.url).pathname;

export interface Running {
  child: ChildProcess;
  /** Everything it printed so far (its log). */
  output(): string;
}

export interface SpawnOptions {
  /** What runs it (default Node on bin/wan-dns.js; the QuickJS suite gives meshwan-js and a bundle). */
  readonly command?: readonly string[];
  /** Runs it in this namespace (default: the host). */
  readonly ns?: Namespace;
  /** A command it runs behind, e.g. setpriv with its flags. */
  readonly prefix?: readonly string[];
}

/** Starts `wan-dns ARGS` and waits until it listens; throws with its log when it exits first. */
export async function spawnWanDns(t: Teardowns, args: readonly string[], o: SpawnOptions = {}): Promise<Running> {
  const prefix = o.prefix ?? [];
  const [command = process.execPath, ...rest] = [...prefix, ...(o.command ?? [process.execPath, bin]), ...args];
  // Behind setpriv the child cannot write tap's process-info files: give it a plain environment.
  const env = prefix.length > 0 ? { PATH: process.env.PATH ?? '/usr/bin:/bin' } : process.env;
  let child: ChildProcess;
  if (o.ns) child = o.ns.spawn(t, command, rest, { env });
  else {
    child = spawn(command, rest, { env, stdio: 'pipe' });
    t.teardown(() => stopProcess(child));
  }
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  await waitFor('wan-dns to listen', () => /listening on/.test(out) || child.exitCode !== null, 60_000);
  if (child.exitCode !== null) throw new Error(`wan-dns exited ${child.exitCode}: ${out}`);
  return { child, output: () => out };
}
