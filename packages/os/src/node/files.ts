/** The seam's files over node:fs; flock from netio.node (packages/os/native), else util-linux flock(1). */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { OsError } from '../errors.js';
import { byCodeUnit, dirOf, type FileStat, type Files, type LockMode, readToEnd, tempPath } from '../files-api.js';
import { decodeUtf8, encodeUtf8 } from '../text.js';

/** node:fs's error as the seam's OsError, under the call the seam names (the same on both engines). */
function osError(err: unknown, syscall: string, path?: string): unknown {
  if (!(err instanceof Error) || !('code' in err) || typeof err.code !== 'string') return err;
  const errno = 'errno' in err && typeof err.errno === 'number' ? Math.abs(err.errno) : 0;
  return new OsError(err.code, errno, syscall, path);
}

function call<T>(syscall: string, path: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err: unknown) {
    throw osError(err, syscall, path);
  }
}

function fileStat(st: Stats): FileStat {
  return {
    type: st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other',
    mode: st.mode,
    size: st.size,
    dev: st.dev,
    ino: st.ino,
  };
}

interface FlockAddon {
  flock(fd: number, op: number): void;
}

function isFlockAddon(x: unknown): x is FlockAddon {
  return typeof x === 'object' && x !== null && 'flock' in x && typeof x.flock === 'function';
}

/** netio.node: ../../build from dist/node in the tree, or beside a bundle (mk/stage.mjs). */
function loadFlock(): FlockAddon | null {
  if (process.env.MESHWAN_OS_NO_ADDON) return null;
  const require = createRequire(import.meta.url);
  for (const path of ['../../build/netio.node', './netio.node']) {
    try {
      const mod: unknown = require(path);
      if (isFlockAddon(mod)) return mod;
    } catch (err: unknown) {
      if (!(err instanceof Error)) throw err;
    }
  }
  return null;
}

let addon: FlockAddon | null | undefined;
const LOCK_OP: Readonly<Record<LockMode, number>> = { shared: 1, exclusive: 2, unlock: 8 };

/**
 * flock(2). Without the addon, flock(1) on an inherited descriptor: flock locks belong to the open file
 * description, which the child shares, so the lock stays with us after the child exits.
 */
function lock(fd: number, mode: LockMode): void {
  addon ??= loadFlock();
  if (addon) {
    const a = addon;
    call('flock', undefined, () => a.flock(fd, LOCK_OP[mode]));
    return;
  }
  // flock(1) would report a bad descriptor as its own usage error: name it as flock(2) does.
  call('flock', undefined, () => fstatSync(fd));
  const flag = mode === 'shared' ? '-s' : mode === 'exclusive' ? '-x' : '-u';
  const res = spawnSync('flock', [flag, '0'], { stdio: [fd, 'ignore', 'pipe'] });
  if (res.status !== 0) throw new OsError('EIO', 5, 'flock', res.error?.message ?? res.stderr.toString().trim());
}

function readAll(fd: number): Uint8Array {
  // positional reads from 0, whatever the descriptor's offset
  return readToEnd((buf, offset, length) => readSync(fd, buf, offset, length, offset), Math.max(fstatSync(fd).size + 1, 4096));
}

function writeAt(fd: number, bytes: Uint8Array, position: number): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, position + off);
}

/** A non-blocking descriptor (a pipe Node shares with its parent) is retried after a short wait, not failed. */
function retried<T>(fn: () => T): T {
  for (;;) {
    try {
      return fn();
    } catch (err: unknown) {
      if (!(err instanceof Error && 'code' in err && err.code === 'EAGAIN')) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

function readSome(fd: number, into: Uint8Array): number {
  try {
    return retried(() => readSync(fd, into, 0, into.length, null));
  } catch (err: unknown) {
    // Node reports the end of some pipes and ttys as EOF instead of a 0-byte read.
    if (err instanceof Error && 'code' in err && err.code === 'EOF') return 0;
    throw err;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += retried(() => writeSync(fd, bytes, off, bytes.length - off));
}

function writeAtomic(path: string, data: string | Uint8Array, options: { mode?: number; tempName?: string; mkdir?: boolean } = {}): void {
  const dir = dirOf(path);
  const mode = (options.mode ?? 0o644) & 0o7777;
  const tmp = tempPath(path, options.tempName);
  if (options.mkdir) files.mkdirp(dir);
  const bytes = typeof data === 'string' ? encodeUtf8(data) : data;
  const fd = call('open', tmp, () => openSync(tmp, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, mode));
  try {
    try {
      call('write', tmp, () => writeAt(fd, bytes, 0));
      // The mode asked for, whatever the umask (libuci gives the new file the old one's mode).
      call('fchmod', tmp, () => fchmodSync(fd, mode));
      call('fsync', tmp, () => fsyncSync(fd));
    } finally {
      closeSync(fd);
    }
    call('rename', path, () => renameSync(tmp, path));
    const dirFd = call('open', dir, () => openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY));
    try {
      call('fsync', dir, () => fsyncSync(dirFd));
    } finally {
      closeSync(dirFd);
    }
  } catch (err: unknown) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed, or never written: nothing to clean up.
    }
    throw err;
  }
}

export const files: Files = {
  readText: (path) => decodeUtf8(files.readBytes(path)),
  readBytes: (path) => {
    const fd = call('open', path, () => openSync(path, constants.O_RDONLY));
    try {
      return call('read', path, () => readAll(fd));
    } finally {
      closeSync(fd);
    }
  },
  writeAtomic,
  exists: (path) => {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  stat: (path) => fileStat(call('stat', path, () => statSync(path))),
  list: (dir) => call('readdir', dir, () => readdirSync(dir)).sort(byCodeUnit),
  remove: (path) =>
    call('remove', path, () => {
      try {
        unlinkSync(path);
      } catch (err: unknown) {
        // unlink(2) refuses a directory with EISDIR (EPERM on some kernels): then it is rmdir's, as remove(3).
        if (err instanceof Error && 'code' in err && (err.code === 'EISDIR' || err.code === 'EPERM')) rmdirSync(path);
        else throw err;
      }
    }),
  mkdirp: (path, mode) => {
    call('mkdir', path, () => mkdirSync(path, { recursive: true, mode: mode ?? 0o777 }));
  },
  rename: (from, to) => call('rename', from, () => renameSync(from, to)),
  open: (path, how, mode) =>
    call('open', path, () =>
      openSync(
        path,
        how === 'read' ? constants.O_RDONLY : how === 'write' ? constants.O_RDWR : constants.O_RDWR | constants.O_CREAT,
        mode ?? 0o666,
      ),
    ),
  close: (fd) => call('close', undefined, () => closeSync(fd)),
  lock,
  fstat: (fd) => fileStat(call('fstat', undefined, () => fstatSync(fd))),
  readAll: (fd) => call('read', undefined, () => readAll(fd)),
  writeAt: (fd, bytes, position) => call('write', undefined, () => writeAt(fd, bytes, position)),
  truncate: (fd, length) => call('ftruncate', undefined, () => ftruncateSync(fd, length)),
  read: (fd, into) => call('read', undefined, () => readSome(fd, into)),
  write: (fd, bytes) => call('write', undefined, () => writeAll(fd, bytes)),
  writeText: (fd, text) => call('write', undefined, () => writeAll(fd, Buffer.from(text, 'utf8'))),
};
