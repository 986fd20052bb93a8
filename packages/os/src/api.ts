/**
 * The seam's surface: what meshwan's engine-independent TypeScript may ask of the OS. One implementation per
 * engine (src/node over node:*, src/quickjs over QuickJS's `std`, `os` and `meshwan:netio`); the bundler picks one
 * by the package's `#engine` import condition (`quickjs` for the router, default for Node).
 */

/** The running program: its arguments, environment, exit and standard streams. */
export interface Proc {
  /** The command's arguments, without the engine and the script (as process.argv.slice(2)). */
  readonly argv: readonly string[];
  /** One environment variable, or undefined. */
  env(name: string): string | undefined;
  /** The working directory (a relative path given on the command line is relative to it). */
  cwd(): string;
  /** The whole environment, a copy (to pass on with changes, as meshwan-wan does). */
  environment(): Record<string, string>;
  /** Ends the process at once with `code`; buffered standard output is flushed first. */
  exit(code: number): never;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  readonly pid: number;
}

/** A timer handle: opaque, only for clearTimer. */
export type TimerHandle = { readonly timer: unknown };

/** Timers on the engine's one event loop. */
export interface Timers {
  /** Calls `fn` once after `ms`; the handle cancels it. */
  after(ms: number, fn: () => void): TimerHandle;
  /** Calls `fn` every `ms` until cleared. */
  every(ms: number, fn: () => void): TimerHandle;
  clear(handle: TimerHandle): void;
  /** Monotonic milliseconds (sub-millisecond precision), for durations only. */
  now(): number;
}

/** What `engine` names: which runtime this build of the seam runs on. */
export type EngineName = 'node' | 'quickjs';
