/**
 * The seam's files over QuickJS's `os` (open, read, write, seek, stat, readdir, mkdir, rename, remove: -errno or
 * [value, errno] results) and meshwan:netio's flock, fsync, fchmod, ftruncate and fstat, which `os` lacks.
 */
import * as netio from 'meshwan:netio';
import * as os from 'os';
import * as std from 'std';
import { OsError } from '../errors.js';
import { type AtomicWriteOptions, byCodeUnit, dirOf, type FileStat, type Files, type LockMode, readToEnd, tempPath } from '../files-api.js';
import { decodeUtf8, encodeUtf8 } from '../text.js';

/** The errno (positive) as OsError; its name comes from the C side, since MIPS numbers errnos differently. */
function osError(errno: number, syscall: string, path?: string): OsError {
  return new OsError(netio.errnoCode(errno), errno, syscall, path);
}

/** An os.* result: the value, or OsError when it is -errno. */
function check(r: number, syscall: string, path?: string): number {
  if (r < 0) throw osError(-r, syscall, path);
  return r;
}

/** A meshwan:netio call: its thrown { errno } becomes OsError naming the path. */
function native<T>(syscall: string, path: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err: unknown) {
    if (err instanceof Error && 'errno' in err && typeof err.errno === 'number') throw osError(err.errno, syscall, path);
    throw err;
  }
}

function typeOf(mode: number): FileStat['type'] {
  const type = mode & os.S_IFMT;
  return type === os.S_IFREG ? 'file' : type === os.S_IFDIR ? 'directory' : 'other';
}

function stat(path: string): FileStat {
  const [st, err] = os.stat(path);
  if (err !== 0) throw osError(err, 'stat', path);
  return { type: typeOf(st.mode), mode: st.mode, size: st.size, dev: st.dev, ino: st.ino };
}

function readAll(fd: number, path?: string): Uint8Array {
  check(os.seek(fd, 0, 0), 'lseek', path);
  return readToEnd((buf, offset, length) => check(os.read(fd, buf.buffer, offset, length), 'read', path), 4096);
}

function writeAt(fd: number, bytes: Uint8Array, position: number, path?: string): void {
  check(os.seek(fd, position, 0), 'lseek', path);
  let off = 0;
  while (off < bytes.length) off += check(os.write(fd, bytes.buffer, bytes.byteOffset + off, bytes.length - off), 'write', path);
}

function open(path: string, flags: number, mode: number): number {
  return check(os.open(path, flags, mode), 'open', path);
}

function writeAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const dir = dirOf(path);
  const mode = (options.mode ?? 0o644) & 0o7777;
  const tmp = tempPath(path, options.tempName);
  if (options.mkdir) files.mkdirp(dir);
  const bytes = typeof data === 'string' ? encodeUtf8(data) : data;
  const fd = open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, mode);
  try {
    try {
      writeAt(fd, bytes, 0, tmp);
      // The mode asked for, whatever the umask (libuci gives the new file the old one's mode).
      native('fchmod', tmp, () => netio.fchmod(fd, mode));
      native('fsync', tmp, () => netio.fsync(fd));
    } finally {
      os.close(fd);
    }
    check(os.rename(tmp, path), 'rename', path);
    const dirFd = open(dir, os.O_RDONLY, 0);
    try {
      native('fsync', dir, () => netio.fsync(dirFd));
    } finally {
      os.close(dirFd);
    }
  } catch (err: unknown) {
    os.remove(tmp);
    throw err;
  }
}

function mkdirp(path: string, mode = 0o777): void {
  const r = os.mkdir(path, mode);
  if (r === 0) return;
  if (-r === EEXIST_OR_PARENT.exists && stat(path).type === 'directory') return;
  if (-r !== EEXIST_OR_PARENT.missing) throw osError(-r, 'mkdir', path);
  const parent = dirOf(path);
  if (parent === path) throw osError(-r, 'mkdir', path);
  mkdirp(parent, mode);
  check(os.mkdir(path, mode), 'mkdir', path);
}

/** EEXIST and ENOENT are 17 and 2 on every Linux ABI meshwan targets (MIPS included). */
const EEXIST_OR_PARENT = { exists: 17, missing: 2 } as const;

const LOCK_OP: Readonly<Record<LockMode, number>> = { shared: netio.LOCK_SH, exclusive: netio.LOCK_EX, unlock: netio.LOCK_UN };

export const files: Files = {
  readText: (path) => decodeUtf8(files.readBytes(path)),
  readBytes: (path) => {
    const fd = open(path, os.O_RDONLY, 0);
    try {
      return readAll(fd, path);
    } finally {
      os.close(fd);
    }
  },
  writeAtomic,
  exists: (path) => os.stat(path)[1] === 0,
  stat,
  list: (dir) => {
    const [names, err] = os.readdir(dir);
    if (err !== 0) throw osError(err, 'readdir', dir);
    return names.filter((n) => n !== '.' && n !== '..').sort(byCodeUnit);
  },
  remove: (path) => {
    check(os.remove(path), 'remove', path);
  },
  mkdirp,
  rename: (from, to) => {
    check(os.rename(from, to), 'rename', from);
  },
  open: (path, how, mode) => open(path, how === 'read' ? os.O_RDONLY : how === 'write' ? os.O_RDWR : os.O_RDWR | os.O_CREAT, mode ?? 0o666),
  close: (fd) => {
    check(os.close(fd), 'close');
  },
  lock: (fd, mode) => native('flock', undefined, () => netio.flock(fd, LOCK_OP[mode])),
  fstat: (fd) => {
    const [dev, ino, mode, size] = native('fstat', undefined, () => netio.fstat(fd));
    return { type: typeOf(mode), mode, size, dev, ino };
  },
  readAll: (fd) => readAll(fd),
  writeAt: (fd, bytes, position) => writeAt(fd, bytes, position),
  truncate: (fd, length) => native('ftruncate', undefined, () => netio.ftruncate(fd, length)),
  read: (fd, into) => check(os.read(fd, into.buffer, into.byteOffset, into.length), 'read'),
  write: (fd, bytes) => writeAll(fd, bytes),
  writeText: (fd, text) => {
    // QuickJS has no native encoder but std's FILE (puts encodes in C): encodeUtf8 would cost a JS loop per byte.
    const file = fd === 1 ? std.out : fd === 2 ? std.err : undefined;
    if (!file) return writeAll(fd, encodeUtf8(text));
    file.puts(text);
    file.flush();
    // std reports no errno: the FILE's error flag is all it keeps (EPIPE ends the process by SIGPIPE first)
    if (file.error()) {
      file.clearerr();
      throw osError(5 /* EIO */, 'write');
    }
  },
};

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += check(os.write(fd, bytes.buffer, bytes.byteOffset + off, bytes.length - off), 'write');
}
