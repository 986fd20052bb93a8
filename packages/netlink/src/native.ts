/**
 * Loads build/netlink.node, the small N-API transport (native/netlink.c). Every call returns >= 0 or -errno.
 * Tried in order: ../build/netlink.node relative to this module (src/ or dist/), then ./netlink.node next to an
 * esbuild bundle (mk/stage.mjs copies packages/<pkg>/build/*.node there).
 */
import { createRequire } from 'node:module';
import { AddonError } from './errors.js';

export interface Addon {
  open(protocol: number, netnsPath: string | null): number;
  bind(fd: number, groups: number): number;
  setsockopt(fd: number, level: number, name: number, value: number): number;
  getsockopt(fd: number, level: number, name: number): number;
  send(fd: number, buf: Buffer, length: number): number;
  recv(fd: number, buf: Buffer, timeoutMs: number): number;
  close(fd: number): number;
  watch(fd: number, onReadable: () => void): WatchHandle;
  unwatch(handle: WatchHandle): number;
}
/** An opaque handle from watch(). */
export type WatchHandle = { readonly __watch: unique symbol };

let cached: Addon | undefined;

export function loadAddon(): Addon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const candidate of ['../build/netlink.node', './netlink.node']) {
    const path = new URL(candidate, import.meta.url).pathname;
    tried.push(path);
    try {
      cached = require(path) as Addon;
      return cached;
    } catch (err: unknown) {
      if (!(err instanceof Error && 'code' in err && err.code === 'MODULE_NOT_FOUND')) throw err;
    }
  }
  throw new AddonError(tried);
}
