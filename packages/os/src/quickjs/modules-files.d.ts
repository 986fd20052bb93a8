/**
 * The parts of QuickJS's `os` (quickjs-libc.c, 2025-04-26) and of meshwan:netio (native/netio-qjs.c) that
 * src/quickjs/files.ts uses. Ambient module declarations merge with modules.d.ts's.
 */
declare module 'os' {
  export const O_RDONLY: number;
  export const O_RDWR: number;
  export const O_CREAT: number;
  export const O_EXCL: number;
  export const S_IFMT: number;
  export const S_IFREG: number;
  export const S_IFDIR: number;
  interface OsStat {
    dev: number;
    ino: number;
    mode: number;
    size: number;
  }
  /** fd, or -errno. */
  export function open(path: string, flags: number, mode?: number): number;
  export function close(fd: number): number;
  /** The new offset, or -errno. */
  export function seek(fd: number, offset: number, whence: number): number;
  /** Bytes read or written, or -errno. */
  export function read(fd: number, buffer: ArrayBufferLike, offset: number, length: number): number;
  export function write(fd: number, buffer: ArrayBufferLike, offset: number, length: number): number;
  /** [stat, 0], or [undefined-ish, errno]. */
  export function stat(path: string): [OsStat, number];
  export function readdir(path: string): [string[], number];
  /** 0 or -errno. */
  export function remove(path: string): number;
  export function rename(from: string, to: string): number;
  export function mkdir(path: string, mode?: number): number;
}

declare module 'meshwan:netio' {
  export const LOCK_SH: number;
  export const LOCK_EX: number;
  export const LOCK_UN: number;
  export function flock(fd: number, op: number): void;
  export function fsync(fd: number): void;
  export function fchmod(fd: number, mode: number): void;
  export function ftruncate(fd: number, length: number): void;
  /** [st_dev, st_ino, st_mode, st_size]. */
  export function fstat(fd: number): [number, number, number, number];
  export function errnoCode(errno: number): string;
}
