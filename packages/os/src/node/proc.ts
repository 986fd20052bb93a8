/** The seam's programs and signals over node:child_process and process (the development side). */
import { type ChildProcess, spawn as nodeSpawn, spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readlinkSync, statSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { OsError } from '../errors.js';
import type { Paths } from '../paths-api.js';
import {
  type Child,
  type ExecOptions,
  type Programs,
  type RunResult,
  resolveProgram,
  runOver,
  type Signals,
  type SpawnOptions,
  searchPath,
} from '../proc-api.js';
import { decodeUtf8 } from '../text.js';
import { files } from './files.js';

function statOrUndefined(path: string) {
  try {
    return files.stat(path);
  } catch {
    return undefined;
  }
}

const which = (name: string) => searchPath(name, process.env.PATH, statOrUndefined);

function resolve(argv: readonly string[]): [string, string[]] {
  const [name = '', ...args] = argv;
  return [resolveProgram(name, process.env.PATH, statOrUndefined), args];
}

function concat(chunks: readonly Uint8Array[]): string {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return decodeUtf8(all);
}

function spawn(argv: readonly string[], options: SpawnOptions = {}): Child {
  const [path, args] = resolve(argv);
  const inherit = options.stdio === 'inherit';
  const child: ChildProcess = nodeSpawn(path, args, {
    argv0: argv[0],
    stdio: inherit ? 'inherit' : ['pipe', 'pipe', 'pipe'],
    ...(options.env ? { env: { ...options.env } } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  child.stdout?.on('data', (c: Uint8Array) => {
    out.push(c);
    options.onStdout?.(c);
  });
  child.stderr?.on('data', (c: Uint8Array) => err.push(c));
  // EPIPE when the program exits before reading all input; its exit status tells the story.
  child.stdin?.on('error', () => {});
  const done = new Promise<RunResult>((settle) => {
    let failure: Error | undefined;
    child.on('error', (e) => {
      failure = e;
    });
    child.on('close', (code, signal) =>
      settle({
        code: failure ? null : code,
        signal,
        stdout: concat(out),
        stderr: failure ? failure.message : concat(err),
      }),
    );
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  return {
    pid: child.pid ?? 0,
    endInput: () => {
      child.stdin?.end();
    },
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    done,
  };
}

/** The signals a shell delivers to a foreground job: passed on to the program while it runs. */
const forwarded: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** A spawn failure as the OsError a real exec gives (EPERM with a gid: setgid refused, as libuv reports it). */
function execError(err: unknown, file: string, gid: number | undefined): OsError {
  const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'EUNKNOWN';
  const errno = err instanceof Error && 'errno' in err && typeof err.errno === 'number' ? Math.abs(err.errno) : 0;
  return new OsError(code, errno, code === 'EPERM' && gid !== undefined ? 'setgid' : 'execvp', file);
}

/**
 * exec semantics by hand (Node cannot exec in place): the program inherits stdio, the signals a shell would
 * deliver to a foreground job are passed on, and its exit code (or its signal) becomes this process's.
 */
function execInPlace(argv: readonly string[], options: ExecOptions = {}): Promise<OsError> {
  const [file = '', ...args] = argv;
  return new Promise<OsError>((settle) => {
    let child: ChildProcess;
    try {
      child = nodeSpawn(file, args, {
        stdio: 'inherit',
        ...(options.env ? { env: { ...options.env } } : {}),
        ...(options.gid !== undefined ? { gid: options.gid } : {}),
      });
    } catch (err: unknown) {
      settle(execError(err, file, options.gid));
      return;
    }
    const handlers = forwarded.map((sig) => {
      const h = () => child.kill(sig);
      process.on(sig, h);
      return [sig, h] as const;
    });
    const release = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    child.on('error', (err) => {
      release();
      settle(execError(err, file, options.gid));
    });
    child.on('exit', (code, signal) => {
      release();
      if (signal) {
        // Die of the same signal, so the caller sees what a real exec would have shown.
        process.kill(process.pid, signal);
        // Should a handler someone else installed (a coverage hook) swallow it, exit as a shell reports a signal.
        setTimeout(() => process.exit(128 + (osConstants.signals[signal] ?? 0)), 200);
        return;
      }
      process.exitCode = code ?? 1;
    });
  });
}

export const programs: Programs = {
  spawn,
  run: runOver(spawn),
  runSync: (argv) => {
    const [path, args] = resolve(argv);
    const r = spawnSync(path, args, { argv0: argv[0], stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout ?? '' };
  },
  which,
  execInPlace,
};

export const signals: Signals = {
  on: (signal, fn) => {
    process.on(signal, fn);
    return () => {
      process.off(signal, fn);
    };
  },
  send: (pid, signal) => {
    try {
      process.kill(pid, signal);
    } catch (err: unknown) {
      const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'EUNKNOWN';
      throw new OsError(code, 0, 'kill');
    }
  },
  alive: (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err: unknown) {
      return err instanceof Error && 'code' in err && err.code === 'EPERM';
    }
  },
};

function call<T>(syscall: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err: unknown) {
    if (!(err instanceof Error) || !('code' in err) || typeof err.code !== 'string') throw err;
    const errno = 'errno' in err && typeof err.errno === 'number' ? Math.abs(err.errno) : 0;
    throw new OsError(err.code, errno, syscall, path);
  }
}

export const paths: Paths = {
  readlink: (path) => call('readlink', path, () => readlinkSync(path)),
  mtimeMs: (path) => call('stat', path, () => statSync(path).mtimeMs),
  writeInPlace: (path, text) => {
    const fd = call('open', path, () => openSync(path, constants.O_WRONLY | constants.O_TRUNC));
    try {
      call('write', path, () => writeSync(fd, text));
    } finally {
      closeSync(fd);
    }
  },
};
