/**
 * The seam's programs and signals over QuickJS's `os`: os.exec without blocking, its stdin, stdout and stderr on
 * os.pipe()s watched by os.setReadHandler/setWriteHandler, and its exit reaped by os.waitpid(pid, WNOHANG) when
 * SIGCHLD arrives (os.signal). One loop, no thread: a daemon's timers and netlink socket keep running meanwhile.
 */
import * as netio from 'meshwan:netio';
import * as os from 'os';
import * as std from 'std';
import { OsError } from '../errors.js';
import type { Paths } from '../paths-api.js';
import {
  type Child,
  type ExecOptions,
  type Programs,
  type RunResult,
  resolveProgram,
  runOver,
  type SignalName,
  type Signals,
  type SpawnOptions,
  searchPath,
} from '../proc-api.js';
import { decodeUtf8, encodeUtf8 } from '../text.js';
import { files } from './files.js';

// SIGHUP is 1 on every Linux ABI (os does not export it); the others differ on MIPS, so they come from `os`.
const numbers: Record<SignalName, number> = { SIGTERM: os.SIGTERM, SIGINT: os.SIGINT, SIGHUP: 1, SIGUSR1: os.SIGUSR1, SIGKILL: 9 };
const names = new Map<number, string>([
  ...Object.entries(numbers).map(([name, n]): [number, string] => [n, name]),
  [os.SIGABRT, 'SIGABRT'],
  [os.SIGSEGV, 'SIGSEGV'],
  [os.SIGPIPE, 'SIGPIPE'],
  [os.SIGQUIT, 'SIGQUIT'],
  [os.SIGUSR2, 'SIGUSR2'],
  [os.SIGALRM, 'SIGALRM'],
]);

function osError(errno: number, syscall: string, path?: string): OsError {
  return new OsError(netio.errnoCode(errno), errno, syscall, path);
}

function statOrUndefined(path: string) {
  try {
    return files.stat(path);
  } catch {
    return undefined;
  }
}

const which = (name: string) => searchPath(name, std.getenv('PATH'), statOrUndefined);

const resolve = (argv: readonly string[]): string => resolveProgram(argv[0] ?? '', std.getenv('PATH'), statOrUndefined);

function pipe(): [number, number] {
  const fds = os.pipe();
  if (fds === null) throw new OsError('EMFILE', 24, 'pipe');
  return fds;
}

/** A wait status as Node reports it: the exit code, or null and the signal's name. */
function decodeStatus(status: number): { code: number | null; signal: string | null } {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: names.get(sig) ?? `SIG${sig}` };
}

/** Children not yet reaped: pid → what to call with its wait status. */
const running = new Map<number, (status: number) => void>();
let keepAlive: unknown;

/** Reaps every ended child we started (never waitpid(-1): another part of the program may own other children). */
function reap(): void {
  for (const [pid, ended] of running) {
    const [got, status] = os.waitpid(pid, os.WNOHANG);
    if (got === pid) {
      running.delete(pid);
      ended(status);
    }
  }
  if (running.size === 0 && keepAlive !== undefined) {
    os.clearTimeout(keepAlive);
    keepAlive = undefined;
  }
}

// QuickJS's loop ends when no fd or timer is watched, and signal handlers do not count: while a child runs after
// closing its pipes, a timer keeps the loop (and SIGCHLD's delivery) alive, and reaps as a fallback.
function armKeepAlive(): void {
  if (keepAlive !== undefined) return;
  const tick = () => {
    keepAlive = undefined;
    reap();
    if (running.size > 0) keepAlive = os.setTimeout(tick, 100);
  };
  keepAlive = os.setTimeout(tick, 100);
}

let childSignalsWatched = false;
function watchChildren(): void {
  if (childSignalsWatched) return;
  childSignalsWatched = true;
  os.signal(os.SIGCHLD, reap);
  // A program that exits before reading all its input must not kill us with SIGPIPE (Node ignores it too). A
  // handler rather than SIG_IGN: exec resets handled signals to their default, an ignored one would be inherited.
  os.signal(os.SIGPIPE, () => {});
}

/** Reads `fd` as the loop finds it readable, until EOF; then closes it. */
function drain(fd: number, chunks: Uint8Array[], onChunk: ((bytes: Uint8Array) => void) | undefined, eof: () => void): void {
  const buf = new Uint8Array(16384);
  os.setReadHandler(fd, () => {
    const n = os.read(fd, buf.buffer, 0, buf.length);
    if (n > 0) {
      const chunk = buf.slice(0, n);
      chunks.push(chunk);
      onChunk?.(chunk);
      return;
    }
    // 0 is EOF; an error (-errno) ends the stream as well: the exit status tells the story.
    os.setReadHandler(fd, null);
    os.close(fd);
    eof();
  });
}

function concat(chunks: readonly Uint8Array[]): string {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return decodeUtf8(all);
}

function execOptions(options: SpawnOptions): Record<string, unknown> {
  return { ...(options.env ? { env: { ...options.env } } : {}), ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) };
}

function spawn(argv: readonly string[], options: SpawnOptions = {}): Child {
  const file = resolve(argv);
  watchChildren();
  if (options.stdio === 'inherit') {
    std.out.flush(); // the program writes to the same stdout: what we buffered comes first
    const pid = os.exec([...argv], { block: false, usePath: false, file, ...execOptions(options) });
    return started(pid, undefined, () => Promise.resolve({ stdout: '', stderr: '' }));
  }
  const [inRead, inWrite] = pipe();
  const [outRead, outWrite] = pipe();
  const [errRead, errWrite] = pipe();
  const pid = os.exec([...argv], {
    block: false,
    usePath: false,
    file,
    stdin: inRead,
    stdout: outWrite,
    stderr: errWrite,
    ...execOptions(options),
  });
  for (const fd of [inRead, outWrite, errWrite]) os.close(fd);
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const streams = new Promise<{ stdout: string; stderr: string }>((settle) => {
    let open = 2;
    const eof = () => {
      if (--open === 0) settle({ stdout: concat(out), stderr: concat(err) });
    };
    drain(outRead, out, options.onStdout, eof);
    drain(errRead, err, undefined, eof);
  });
  return started(pid, inWrite, () => streams, options.input);
}

/** The Child of `pid`: its stdin fed from `input` (4 KB per writable turn: a pipe takes that without blocking). */
function started(
  pid: number,
  stdin: number | undefined,
  streams: () => Promise<{ stdout: string; stderr: string }>,
  input?: string,
): Child {
  let inputFd = stdin;
  const endInput = () => {
    if (inputFd === undefined) return;
    os.setWriteHandler(inputFd, null);
    os.close(inputFd);
    inputFd = undefined;
  };
  if (inputFd !== undefined && input !== undefined) {
    const bytes = encodeUtf8(input);
    let at = 0;
    const fd = inputFd;
    if (bytes.length === 0) endInput();
    else
      os.setWriteHandler(fd, () => {
        const n = os.write(fd, bytes.buffer, bytes.byteOffset + at, Math.min(4096, bytes.length - at));
        at = n > 0 ? at + n : bytes.length; // EPIPE: the program stopped reading, its status tells why
        if (at >= bytes.length) endInput();
      });
  }
  let ended = false;
  const exited = new Promise<number>((settle) => {
    running.set(pid, (status) => {
      ended = true;
      settle(status);
    });
  });
  armKeepAlive();
  reap(); // it may have ended already (its SIGCHLD came before the map knew it)
  const done = Promise.all([exited, streams()]).then(([status, text]): RunResult => {
    endInput();
    return { ...decodeStatus(status), ...text };
  });
  return {
    pid,
    endInput,
    kill: (signal) => {
      if (!ended) os.kill(pid, numbers[signal]);
    },
    done,
  };
}

/** Blocking: stdout read to EOF (stderr to /dev/null, so one pipe cannot fill while we read the other). */
function runSync(argv: readonly string[]): { code: number | null; stdout: string } {
  const file = resolve(argv);
  const [outRead, outWrite] = pipe();
  const devNull = os.open('/dev/null', os.O_RDWR);
  if (devNull < 0) throw osError(-devNull, 'open', '/dev/null');
  const pid = os.exec([...argv], { block: false, usePath: false, file, stdin: devNull, stdout: outWrite, stderr: devNull });
  os.close(outWrite);
  os.close(devNull);
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(16384);
  for (;;) {
    const n = os.read(outRead, buf.buffer, 0, buf.length);
    if (n <= 0) break;
    chunks.push(buf.slice(0, n));
  }
  os.close(outRead);
  const [, status] = os.waitpid(pid, 0);
  return { code: decodeStatus(status).code, stdout: concat(chunks) };
}

/** A real exec(2): stdout and stderr flushed, setgid, execvp (native/netio.c); returns only a failure. */
function execInPlace(argv: readonly string[], options: ExecOptions = {}): Promise<OsError> {
  const env = Object.entries(options.env ?? std.getenviron()).map(([name, value]) => `${name}=${value}`);
  try {
    netio.exec(argv, env, options.gid ?? -1);
  } catch (err: unknown) {
    return Promise.resolve(asOsError(err, argv[0] ?? ''));
  }
  // exec returns only by throwing: unreachable, but a failure all the same rather than a success.
  return Promise.resolve(new OsError('EUNKNOWN', 0, 'execvp', argv[0]));
}

/** meshwan:netio's thrown Error ({ errno, code, syscall }) as the seam's OsError naming the program. */
function asOsError(err: unknown, path: string): OsError {
  if (err instanceof Error && 'errno' in err && typeof err.errno === 'number' && 'syscall' in err && typeof err.syscall === 'string')
    return osError(err.errno, err.syscall, path);
  throw err; // a TypeError or RangeError: a bad argument is the caller's bug, not a failed exec
}

export const programs: Programs = {
  spawn,
  run: runOver(spawn),
  runSync,
  which,
  execInPlace,
};

/** Handlers per signal: os.signal keeps one function per signal, so the seam multiplexes. */
const handlers = new Map<SignalName, Set<() => void>>();

export const signals: Signals = {
  on: (signal, fn) => {
    let set = handlers.get(signal);
    if (set === undefined) {
      const fresh = new Set<() => void>();
      set = fresh;
      handlers.set(signal, fresh);
      os.signal(numbers[signal], () => {
        for (const h of [...fresh]) h();
      });
    }
    set.add(fn);
    return () => {
      const now = handlers.get(signal);
      if (now === undefined || !now.delete(fn) || now.size > 0) return;
      handlers.delete(signal);
      os.signal(numbers[signal], null);
    };
  },
  send: (pid, signal) => {
    const r = os.kill(pid, numbers[signal]);
    if (r < 0) throw osError(-r, 'kill');
  },
  alive: (pid) => {
    const r = os.kill(pid, 0);
    return r === 0 || netio.errnoCode(-r) === 'EPERM';
  },
};

export const paths: Paths = {
  readlink: (path) => {
    const [target, err] = os.readlink(path);
    if (err !== 0) throw osError(err, 'readlink', path);
    return target;
  },
  mtimeMs: (path) => {
    const [st, err] = os.stat(path);
    if (err !== 0) throw osError(err, 'stat', path);
    return st.mtime;
  },
  writeInPlace: (path, text) => {
    const fd = os.open(path, os.O_WRONLY | os.O_TRUNC);
    if (fd < 0) throw osError(-fd, 'open', path);
    try {
      const bytes = encodeUtf8(text);
      const n = os.write(fd, bytes.buffer, bytes.byteOffset, bytes.length);
      if (n < 0) throw osError(-n, 'write', path);
    } finally {
      os.close(fd);
    }
  },
};
