/**
 * Programs and signals on the seam: starting another program (argv, stdin text, its stdout, stderr and exit
 * status, without blocking the one event loop), and handlers for the signals a daemon answers. One
 * implementation per engine (src/node/proc.ts over node:child_process, src/quickjs/proc.ts over os.exec, pipes,
 * read handlers and SIGCHLD), picked by `#engine` as the rest of the seam.
 */
import { OsError } from './errors.js';
import type { FileStat } from './files-api.js';

/** The signals meshwan sends or answers. Numbers differ per ABI (MIPS), so only names cross the seam. */
export type SignalName = 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGUSR1' | 'SIGKILL';

/** How a program ended: `code` is its exit status, or null when `signal` ended it. */
export interface RunResult {
  readonly code: number | null;
  readonly signal: SignalName | string | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SpawnOptions {
  /** Written to stdin, which then closes. Absent: stdin stays open until endInput() (a lock holder's lifeline). */
  readonly input?: string;
  /** Each chunk of stdout as it arrives (it is also collected for the result). */
  readonly onStdout?: (bytes: Uint8Array) => void;
  /** The whole environment of the program; absent: this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * `inherit`: the program shares this process's stdin, stdout and stderr (nothing collected, no input); what this
   * process buffered for stdout is written first, so output keeps its order.
   */
  readonly stdio?: 'pipe' | 'inherit';
  /** The program's working directory; absent: this process's. */
  readonly cwd?: string;
}

export interface ExecOptions {
  /** The whole environment of the program; absent: this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /** The group to become first (setgroups to none, then setgid; xt_owner's --gid-owner sees it). */
  readonly gid?: number;
}

/** A started program. */
export interface Child {
  readonly pid: number;
  /** Closes its stdin (EOF); a no-op once closed. */
  endInput(): void;
  /** Sends `signal`; a no-op once it has ended. */
  kill(signal: SignalName): void;
  /** Settles when it has ended and its stdout and stderr are drained; never rejects. */
  readonly done: Promise<RunResult>;
}

/** What a program printed and how it ended, read while it ran (stdin /dev/null, stderr discarded). */
export interface SyncResult {
  readonly code: number | null;
  readonly stdout: string;
}

export interface Programs {
  /**
   * Starts `argv` (a name without `/` is looked up in PATH first). Throws OsError `ENOENT` (syscall `spawn`,
   * path the name) when there is no such program, `EACCES` when the path is not an executable file: the same,
   * synchronously, on both engines.
   */
  spawn(argv: readonly string[], options?: SpawnOptions): Child;
  /** Runs `argv` to its end with `input` on stdin (empty when absent). Rejects only as spawn() throws. */
  run(argv: readonly string[], input?: string): Promise<RunResult>;
  /**
   * Runs `argv` to its end, blocking the loop: only for short, small-output probes (`iptables -V`, `ss`).
   * Throws as spawn() does.
   */
  runSync(argv: readonly string[]): SyncResult;
  /** The path PATH finds for `name` (an executable regular file), or undefined. */
  which(name: string): string | undefined;
  /**
   * Becomes `argv` (Gluon's gluon-wan: setgid, then execvp): on QuickJS this process is the program from then on,
   * same pid, stdio and the signals a shell delivers. Node cannot exec in place: it runs the program with this
   * process's stdio, passes those signals on, and exits as it did (its code, or dying of its signal). Settles only
   * when that fails, with the OsError (`ENOENT`: no such program; `EACCES`; `EPERM` from setgid), as a shell
   * reports 127 or 126.
   */
  execInPlace(argv: readonly string[], options?: ExecOptions): Promise<OsError>;
}

export interface Signals {
  /** Calls `fn` on each `signal` until the returned function removes it; with no handler left, the default acts. */
  on(signal: SignalName, fn: () => void): () => void;
  /** Sends `signal` to process `pid`. Throws OsError (`ESRCH`, syscall `kill`). */
  send(pid: number, signal: SignalName): void;
  /** Whether process `pid` exists (kill(pid, 0); EPERM: it does, and is not ours). */
  alive(pid: number): boolean;
}

/** The search of PATH both engines share: the first executable regular file. */
export function searchPath(name: string, pathVar: string | undefined, stat: (path: string) => FileStat | undefined): string | undefined {
  const executable = (path: string) => {
    const st = stat(path);
    return st !== undefined && st.type === 'file' && (st.mode & 0o111) !== 0;
  };
  if (name.includes('/')) return executable(name) ? name : undefined;
  for (const dir of (pathVar ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const candidate = `${dir === '' ? '.' : dir}/${name}`;
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The program spawn() starts for `name`: a path with `/` as it is, else the first in PATH. Throws OsError
 * `ENOENT` (syscall `spawn`, path the name) when there is none, and `EACCES` for a path that names something that
 * is not an executable file, as exec(2) would (QuickJS's child could only exit 127, telling neither apart).
 */
export function resolveProgram(name: string, pathVar: string | undefined, stat: (path: string) => FileStat | undefined): string {
  const path = searchPath(name, pathVar, stat);
  if (path !== undefined) return path;
  if (name.includes('/') && stat(name) !== undefined) throw new OsError('EACCES', 13, 'spawn', name);
  throw new OsError('ENOENT', 2, 'spawn', name);
}

/** `run` over an engine's `spawn`: all its output once it ends; a spawn that throws (ENOENT) becomes a rejection. */
export function runOver(spawn: Programs['spawn']): Programs['run'] {
  return (argv, input) => {
    try {
      return spawn(argv, { input: input ?? '' }).done;
    } catch (err: unknown) {
      return Promise.reject(err);
    }
  };
}
