/**
 * The seam's `files` module: what meshwan's engine-independent code may do with files. The Node implementation
 * (src/node/files.ts) is over node:fs, the QuickJS one (src/quickjs/files.ts) over QuickJS's `os` plus
 * meshwan:netio for flock, fsync, fchmod, ftruncate and fstat, which `os` lacks. Every failure throws OsError
 * ({ code: 'ENOENT', errno, syscall, path }) with the same code and syscall on both engines.
 */

/** What stat and fstat report (st_mode keeps the file type and the permission bits). */
export interface FileStat {
  readonly type: 'file' | 'directory' | 'other';
  /** st_mode: type and permission bits. */
  readonly mode: number;
  readonly size: number;
  readonly dev: number;
  readonly ino: number;
}

/** flock(2): LOCK_SH, LOCK_EX or LOCK_UN. */
export type LockMode = 'shared' | 'exclusive' | 'unlock';

/** How open() opens: read-only, read-write, or read-write created with the given mode when missing. */
export type OpenHow = 'read' | 'write' | 'create';

export interface AtomicWriteOptions {
  /** The new file's mode (default 0644), set with fchmod so the umask cannot narrow it. */
  readonly mode?: number;
  /** The temp file's name in the same directory (default `.NAME.tmp-XXXXXX`). */
  readonly tempName?: string;
  /** Create the directory (and its parents) first (default false). */
  readonly mkdir?: boolean;
}

export interface Files {
  /** The whole file as UTF-8 text (malformed bytes become U+FFFD). */
  readText(path: string): string;
  readBytes(path: string): Uint8Array;
  /**
   * The one durable file write of meshwan (uci commits, state files, /etc/passwd): a temp file in the same
   * directory, written, fchmod'ed to `mode`, fsync'ed, renamed over `path`, then the directory fsync'ed, so a
   * crash at any point leaves the old file or the new one. The temp file is removed on failure.
   */
  writeAtomic(path: string, data: string | Uint8Array, options?: AtomicWriteOptions): void;
  /** True when `path` names anything (stat succeeds). */
  exists(path: string): boolean;
  stat(path: string): FileStat;
  /** The names in `dir`, without `.` and `..`, sorted by code unit (strcmp for ASCII), the same on every engine. */
  list(dir: string): string[];
  /** Removes a file or an empty directory. */
  remove(path: string): void;
  /** Creates `path` and its missing parents with `mode` (default 0777, less the umask); an existing dir is fine. */
  mkdirp(path: string, mode?: number): void;
  rename(from: string, to: string): void;

  // Descriptors, for a locked read-modify-write (uci's config and delta files).
  /** Opens `path` (close-on-exec); `create` makes a missing file with `mode` (default 0666, less the umask). */
  open(path: string, how: OpenHow, mode?: number): number;
  close(fd: number): void;
  /** flock(2), blocking. */
  lock(fd: number, mode: LockMode): void;
  fstat(fd: number): FileStat;
  /** The whole file from offset 0, whatever the descriptor's position. */
  readAll(fd: number): Uint8Array;
  /** Writes all of `bytes` at `position`. */
  writeAt(fd: number, bytes: Uint8Array, position: number): void;
  truncate(fd: number, length: number): void;
  /** Reads up to `into.length` bytes at the descriptor's position (stdin, a pipe); 0 at the end. Blocks. */
  read(fd: number, into: Uint8Array): number;
  /** Writes all of `bytes` at the descriptor's position (stdout, stderr, a pipe). Blocks. */
  write(fd: number, bytes: Uint8Array): void;
  /**
   * Writes all of `text` as UTF-8 at the descriptor's position, encoded by the engine (a large output, such as a
   * 100k-route dump in 64 KiB chunks, written as it is made). Blocks, so memory stays bounded however slow the
   * reader; on QuickJS stdout and stderr go through std's FILE, flushed before it returns.
   */
  writeText(fd: number, text: string): void;
}

/** The temp file writeAtomic uses beside `path`: `tempName`, or `.NAME.tmp-XXXXXX`. */
export function tempPath(path: string, tempName?: string): string {
  const dir = dirOf(path);
  const base = path.slice(path.lastIndexOf('/') + 1);
  const random = Math.floor(Math.random() * 0x1000000)
    .toString(16)
    .padStart(6, '0');
  return `${dir === '/' ? '' : dir}/${tempName ?? `.${base}.tmp-${random}`}`;
}

/** The directory part of `path`, as dirname(1). */
export function dirOf(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  return slash < 0 ? '.' : trimmed.slice(0, slash).replace(/\/+$/, '') || '/';
}

/** Sort order of list(): by UTF-16 code unit, not locale. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Reads until end of file through `read(buf, offset, length)` (bytes read, 0 at the end), growing the buffer from
 * `initial` bytes by doubling: the one loop both engines' readAll use over their own read call.
 */
export function readToEnd(read: (buf: Uint8Array, offset: number, length: number) => number, initial: number): Uint8Array {
  let buf = new Uint8Array(Math.max(initial, 1));
  let total = 0;
  for (;;) {
    const n = read(buf, total, buf.length - total);
    if (n === 0) return buf.subarray(0, total);
    total += n;
    if (total === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
  }
}
