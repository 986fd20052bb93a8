/**
 * The runner behind meshwan-reconfigure, as Gluon's gluon-reconfigure: every script in <root>/lib/gluon/upgrade,
 * in numeric order, each in its own process; all of them run even after a failure, and the failures are named.
 * Scripts learn the root from MESHWAN_ROOT. Over @meshwan/os, so it runs on meshwan-js as on Node.
 */
import { files, OsError, proc, programs, type RunResult } from '@meshwan/os';

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
  return files
    .list(dir)
    .filter((name) => !name.startsWith('.') && files.stat(`${dir}/${name}`).type === 'file')
    .sort(order);
}

export interface RunOptions {
  readonly root: string;
  readonly log?: (line: string) => void;
  /** The scripts' environment (MESHWAN_ROOT is added); absent: this process's. */
  readonly env?: Readonly<Record<string, string>>;
}

/** One script to its end, stdio shared; its failure as the runner names it, or undefined. */
async function runScript(
  path: string,
  cwd: string,
  env: Readonly<Record<string, string>>,
): Promise<{ status: number | null; failure?: string }> {
  let done: RunResult;
  try {
    done = await programs.spawn([path], { cwd, env, stdio: 'inherit' }).done;
  } catch (err: unknown) {
    if (!(err instanceof OsError)) throw err;
    return { status: null, failure: `cannot run: ${err.code}` };
  }
  if (done.signal !== null) return { status: null, failure: `killed by ${done.signal}` };
  return done.code === 0 ? { status: 0 } : { status: done.code, failure: `exit ${done.code}` };
}

export async function runScripts(options: RunOptions): Promise<ScriptResult[]> {
  const dir = `${options.root === '/' ? '' : options.root}/lib/gluon/upgrade`;
  const log = options.log ?? ((line: string) => proc.writeStdout(`${line}\n`));
  const env = { ...(options.env ?? proc.environment()), MESHWAN_ROOT: options.root };
  const results: ScriptResult[] = [];
  for (const name of listScripts(dir)) {
    log(`Configuring: ${name}`);
    results.push({ name, ...(await runScript(`${dir}/${name}`, dir, env)) });
  }
  return results;
}
