/**
 * The parts of QuickJS's built-in modules (quickjs-libc.c, 2025-04-26) the seam uses, and meshwan-js's
 * `meshwan:netio` (native/netio-qjs.c). Only these declarations: the rest of meshwan never imports them.
 */
declare module 'std' {
  interface StdFile {
    puts(text: string): void;
    flush(): void;
    /** ferror(3): whether a write failed since the last clearerr. */
    error(): boolean;
    clearerr(): void;
  }
  export const out: StdFile;
  export const err: StdFile;
  export function getenv(name: string): string | undefined;
  /** This process's environment, as a new object. */
  export function getenviron(): Record<string, string>;
  export function exit(code: number): never;
}

declare module 'os' {
  export function setTimeout(fn: () => void, ms: number): unknown;
  export function clearTimeout(handle: unknown): void;
  export function now(): number;
  export function getpid(): number;
}

declare var scriptArgs: string[];
