/**
 * File access with libuci's locking, plus the durable write libuci lacks: temp file in the same directory,
 * fsync, rename, fsync of the directory, so a crash at any point leaves the old file or the new one.
 */

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UciError } from './errors.js';
import { flock } from './lock.js';

/** UCI_FILEMODE: new config and delta files are 0600 unless the config file already has a mode. */
export const UCI_FILEMODE = 0o600;
/** UCI_DIRMODE: a new save dir is 0700 unless the config dir gives a mode. */
export const UCI_DIRMODE = 0o700;

export function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path);
  } catch (err: unknown) {
    if (err instanceof Error) return null;
    throw err;
  }
}

function ioError(op: string, path: string, err: unknown): UciError {
  return new UciError('IO', op, path, err instanceof Error ? err.message : String(err));
}

export function readAll(fd: number): Uint8Array {
  const size = fstatSync(fd).size;
  let total = 0;
  let buf = Buffer.allocUnsafe(Math.max(size + 1, 4096));
  for (;;) {
    const n = readSync(fd, buf, total, buf.length - total, total);
    if (n === 0) break;
    total += n;
    if (total === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger);
      buf = bigger;
    }
  }
  return buf.subarray(0, total);
}

/**
 * Read a regular file under a shared flock, as uci_open_stream(write=false). Null when it is missing or not a
 * regular file (libuci UCI_ERR_NOTFOUND); IO errors throw.
 */
export function readLocked(path: string): Uint8Array | null {
  const st = statOrNull(path);
  if (!st || !st.isFile()) return null;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (err: unknown) {
    throw ioError('open', path, err);
  }
  try {
    flock(fd, 'shared', path);
    return readAll(fd);
  } finally {
    closeSync(fd);
  }
}

/** An open, exclusively locked file. */
export interface LockedFile {
  fd: number;
  path: string;
}

/**
 * Open (creating with `mode`) and flock LOCK_EX, as uci_open_stream(write=true). With `stable`, re-open when
 * the path was replaced while we waited (a committer renamed a new file over it), so the lock we hold is on
 * the file the path names: libuci does not check this and can then commit from stale content.
 */
export function openLocked(path: string, mode: number, create: boolean, stable: boolean): LockedFile {
  for (;;) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | (create ? constants.O_CREAT : 0), mode);
    } catch (err: unknown) {
      throw ioError('open', path, err);
    }
    try {
      flock(fd, 'exclusive', path);
    } catch (err: unknown) {
      closeSync(fd);
      throw err;
    }
    if (!stable) return { fd, path };
    const held = fstatSync(fd);
    const now = statOrNull(path);
    if (now && now.ino === held.ino && now.dev === held.dev) return { fd, path };
    closeSync(fd);
  }
}

export function closeLocked(f: LockedFile): void {
  try {
    flock(f.fd, 'unlock', f.path);
  } finally {
    closeSync(f.fd);
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface AtomicWriteOptions {
  /** The new file's mode (default 0644), set with fchmod so the umask cannot narrow it. */
  readonly mode?: number;
  /** The temp file's name in the same directory (default `.NAME.tmp-XXXXXX`). */
  readonly tempName?: string;
  /** Create the directory (and its parents) first (default false). */
  readonly mkdir?: boolean;
}

/**
 * The one durable file write of meshwan (uci commits, state files, /etc/passwd): write a temp file in the same
 * directory, fsync it, give it `mode`, rename it over `path`, fsync the directory, so a crash at any point leaves
 * the old file or the new one. The temp file is removed on failure; the fs error is thrown as it is, for the
 * caller to wrap in its own typed error naming the file.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const dir = dirname(path);
  const mode = (options.mode ?? 0o644) & 0o7777;
  const tmp = join(dir, options.tempName ?? `.${basename(path)}.tmp-${randomBytes(3).toString('hex')}`);
  if (options.mkdir) mkdirSync(dir, { recursive: true });
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const fd = openSync(tmp, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      // libuci gives the new file the old one's mode (file.c uci_file_commit chmod); umask must not narrow it.
      fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(dir);
  } catch (err: unknown) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Replace `path` atomically and durably with `data` (writeFileAtomic) under libuci's temp name
 * `.NAME.uci-XXXXXX`; failures throw UciError IO naming the path.
 */
export function writeAtomic(path: string, name: string, data: Uint8Array, mode: number): void {
  try {
    writeFileAtomic(path, data, { mode, tempName: `.${name}.uci-${randomBytes(3).toString('hex')}` });
  } catch (err: unknown) {
    throw ioError('commit', path, err);
  }
}
