/**
 * netio.node (native/netio-napi.c, the same C as meshwan-js binds), loaded on first use: ../../build/netio.node
 * from dist/node/, or ./netio.node next to a bundle (mk/stage.mjs copies it there).
 */
import { createRequire } from 'node:module';
import { OsError } from '../errors.js';

function load<T>(): T {
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const candidate of ['../../build/netio.node', './netio.node']) {
    const path = new URL(candidate, import.meta.url).pathname;
    tried.push(path);
    try {
      return require(path) as T;
    } catch (err: unknown) {
      if (!(err instanceof Error && 'code' in err && err.code === 'MODULE_NOT_FOUND')) throw err;
    }
  }
  // ENOENT as the seam's error: the addon is a missing part (run make native), named with where it was looked for.
  throw new OsError('ENOENT', 2, 'dlopen', tried.join(', '));
}

let loaded: object | undefined;

/** The addon, typed by the caller's view of it (each seam module declares the functions it uses). */
export function netioAddon<T extends object>(): T {
  loaded ??= load<T>();
  return loaded as T;
}
