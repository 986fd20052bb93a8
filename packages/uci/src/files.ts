/**
 * File access with libuci's locking (flock on the config and delta files, util.c uci_open_stream), over
 * @meshwan/os's files, plus the durable write libuci lacks (files.writeAtomic: temp file in the same directory,
 * fsync, rename, fsync of the directory, so a crash at any point leaves the old file or the new one).
 */
import { type AtomicWriteOptions, type FileStat, files, type LockMode, OsError } from '@meshwan/os';
import { UciError } from './errors.js';

export type { AtomicWriteOptions };

/** UCI_FILEMODE: new config and delta files are 0600 unless the config file already has a mode. */
export const UCI_FILEMODE = 0o600;
/** UCI_DIRMODE: a new save dir is 0700 unless the config dir gives a mode. */
export const UCI_DIRMODE = 0o700;

export function statOrNull(path: string): FileStat | null {
  try {
    return files.stat(path);
  } catch (err: unknown) {
    if (err instanceof OsError) return null;
    throw err;
  }
}

function ioError(op: string, path: string, err: unknown): UciError {
  return new UciError('IO', op, path, err instanceof Error ? err.message : String(err));
}

/** flock, as libuci: the lock cannot be taken → UciError IO; a file system without locks (ENOSYS) goes on without. */
function lock(fd: number, mode: LockMode, path: string): void {
  try {
    files.lock(fd, mode);
  } catch (err: unknown) {
    if (err instanceof OsError && err.code === 'ENOSYS') return;
    throw ioError('flock', path, err);
  }
}

export function readAll(fd: number): Uint8Array {
  return files.readAll(fd);
}

/**
 * Read a regular file under a shared flock, as uci_open_stream(write=false). Null when it is missing or not a
 * regular file (libuci UCI_ERR_NOTFOUND); IO errors throw.
 */
export function readLocked(path: string): Uint8Array | null {
  const st = statOrNull(path);
  if (st?.type !== 'file') return null;
  let fd: number;
  try {
    fd = files.open(path, 'read');
  } catch (err: unknown) {
    throw ioError('open', path, err);
  }
  try {
    lock(fd, 'shared', path);
    return files.readAll(fd);
  } finally {
    files.close(fd);
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
      fd = files.open(path, create ? 'create' : 'write', mode);
    } catch (err: unknown) {
      throw ioError('open', path, err);
    }
    try {
      lock(fd, 'exclusive', path);
    } catch (err: unknown) {
      files.close(fd);
      throw err;
    }
    if (!stable) return { fd, path };
    const held = files.fstat(fd);
    const now = statOrNull(path);
    if (now && now.ino === held.ino && now.dev === held.dev) return { fd, path };
    files.close(fd);
  }
}

export function closeLocked(f: LockedFile): void {
  try {
    lock(f.fd, 'unlock', f.path);
  } finally {
    files.close(f.fd);
  }
}

/**
 * The one durable file write of meshwan (uci commits, state files, /etc/passwd): @meshwan/os files.writeAtomic.
 * The OsError is thrown as it is, for the caller to wrap in its own typed error naming the file.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  files.writeAtomic(path, data, options);
}

/**
 * Replace `path` atomically and durably with `data` (writeFileAtomic) under libuci's temp name
 * `.NAME.uci-XXXXXX`; failures throw UciError IO naming the path.
 */
export function writeAtomic(path: string, name: string, data: Uint8Array, mode: number): void {
  const random = Math.floor(Math.random() * 0x1000000)
    .toString(16)
    .padStart(6, '0');
  try {
    files.writeAtomic(path, data, { mode, tempName: `.${name}.uci-${random}` });
  } catch (err: unknown) {
    throw ioError('commit', path, err);
  }
}
