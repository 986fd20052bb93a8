/** The parts of QuickJS's `os` (quickjs-libc.c, 2025-04-26) that src/quickjs/proc.ts uses; merges with modules.d.ts. */
declare module 'os' {
  export const SIGTERM: number;
  export const SIGINT: number;
  export const SIGUSR1: number;
  export const SIGUSR2: number;
  export const SIGCHLD: number;
  export const SIGPIPE: number;
  export const SIGABRT: number;
  export const SIGSEGV: number;
  export const SIGQUIT: number;
  export const SIGALRM: number;
  export const WNOHANG: number;
  export const O_WRONLY: number;
  export const O_TRUNC: number;
  interface OsStat {
    /** milliseconds since the epoch */
    mtime: number;
  }
  interface ExecOptions {
    block?: boolean;
    usePath?: boolean;
    file?: string;
    stdin?: number;
    stdout?: number;
    stderr?: number;
    env?: Record<string, string>;
    cwd?: string;
  }
  /** [path, errno]. */
  export function getcwd(): [string, number];
  /** The pid (block: false), else the exit status; the child exits 127 when exec fails. */
  export function exec(argv: string[], options?: ExecOptions): number;
  /** [pid or 0 or -errno, wait status]. */
  export function waitpid(pid: number, options: number): [number, number];
  /** [read end, write end], or null. */
  export function pipe(): [number, number] | null;
  /** 0 or -errno. */
  export function kill(pid: number, sig: number): number;
  /** null: the default action; undefined: ignored. */
  export function signal(sig: number, fn: (() => void) | null | undefined): void;
  export function setWriteHandler(fd: number, fn: (() => void) | null): void;
  /** [target, errno]. */
  export function readlink(path: string): [string, number];
}

declare module 'meshwan:netio' {
  /** Becomes argv[0] (PATH searched) with `env` (NAME=value) in group `gid` (-1: unchanged); returns only by throwing. */
  export function exec(argv: readonly string[], env: readonly string[], gid: number): never;
}
