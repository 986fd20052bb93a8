/**
 * The runner behind meshwan-reconfigure, as Gluon's gluon-reconfigure: every script in <root>/lib/gluon/upgrade,
 * in numeric order, each in its own process; all of them run even after a failure, and the failures are named.
 * Scripts learn the root from MESHWAN_ROOT.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface ScriptResult {
  readonly name: string;
  /** Exit status; null when the script was killed or could not start. */
  readonly status: number | null;
  /** Why it failed, when it did: `exit 1`, `killed by SIGKILL`, `cannot run: EACCES`. */
  readonly failure?: string;
}

function order(a: string, b: string): number {
  const na = Number(/^\d+/.exec(a)?.[0] ?? Number.POSITIVE_INFINITY);
  const nb = Number(/^\d+/.exec(b)?.[0] ?? Number.POSITIVE_INFINITY);
  if (na !== nb) return na < nb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Script names in run order: numeric prefix first (so 99-x runs before 110-y), then byte order. */
export function listScripts(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && statSync(join(dir, name)).isFile())
    .sort(order);
}

export interface RunOptions {
  readonly root: string;
  readonly log?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

export function runScripts(options: RunOptions): ScriptResult[] {
  const dir = join(options.root, 'lib/gluon/upgrade');
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const env = { ...(options.env ?? process.env), MESHWAN_ROOT: options.root };
  const results: ScriptResult[] = [];
  for (const name of listScripts(dir)) {
    log(`Configuring: ${name}`);
    const run = spawnSync(join(dir, name), [], { cwd: dir, env, stdio: 'inherit' });
    let failure: string | undefined;
    if (run.error !== undefined) {
      const code = 'code' in run.error && typeof run.error.code === 'string' ? run.error.code : run.error.message;
      failure = `cannot run: ${code}`;
    } else if (run.signal !== null) failure = `killed by ${run.signal}`;
    else if (run.status !== 0) failure = `exit ${run.status}`;
    results.push(failure === undefined ? { name, status: run.status } : { name, status: run.status, failure });
  }
  return results;
}
