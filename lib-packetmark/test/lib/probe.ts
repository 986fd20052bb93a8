/**
 * Shared by the lib-packetmark tests: builds the library and markprobe (make is a no-op when they are fresh), and
 * runs commands with or without the library preloaded. Every child gets an explicit environment, so LD_PRELOAD
 * never leaks into tap itself.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const libDir = fileURLToPath(new URL('../..', import.meta.url));
export const library = `${libDir}build/libpacketmark.so`;
export const markprobe = `${libDir}build/markprobe`;

const built = spawnSync('make', ['-s', '-C', libDir], { encoding: 'utf8' });
if (built.status !== 0) throw new Error(`make -C ${libDir} failed: ${built.stderr}`);

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment for a child: PATH and HOME only, plus the library (unless `preload` is false) and `extra`. */
export function childEnv(extra: Record<string, string> = {}, preload = true): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', LC_ALL: 'C' };
  if (preload) env.LD_PRELOAD = library;
  return { ...env, ...extra };
}

/** Runs `command args` with `env` (see childEnv); never throws on a non-zero exit. */
export function runWith(env: Record<string, string>, command: string, args: readonly string[], input?: string): Result {
  const r = spawnSync(command, args, { env, encoding: 'utf8', input, timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One markprobe line "inet:dgram fd=3 mark=0x1 errno=EDOM", parsed. */
export interface Probe {
  spec: string;
  fd: number;
  mark?: number;
  errno: string;
}

export function parseProbes(stdout: string): Probe[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const m = /^(\S+) fd=(-?\d+)(?: mark=(0x[0-9a-f]+))? errno=(\w+)$/.exec(line);
      if (!m || m[1] === undefined || m[2] === undefined || m[4] === undefined)
        throw new Error(`markprobe printed an unexpected line: ${line}`);
      return { spec: m[1], fd: Number(m[2]), ...(m[3] === undefined ? {} : { mark: Number(m[3]) }), errno: m[4] };
    });
}

/** Runs markprobe with the given specs under `env` and returns its parsed lines with its stderr. */
export function probe(
  env: Record<string, string>,
  specs: readonly string[],
  wrapper: readonly string[] = [],
): Result & { probes: Probe[] } {
  const [cmd, ...rest] = [...wrapper, markprobe, ...specs];
  const r = runWith(env, cmd ?? markprobe, rest);
  return { ...r, probes: r.status === 0 ? parseProbes(r.stdout) : [] };
}

/** The warning lines libpacketmark wrote. */
export function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('libpacketmark:'));
}
