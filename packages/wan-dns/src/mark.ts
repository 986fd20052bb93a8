/**
 * The WAN mark on upstream sockets, through the netio N-API addon (packages/os, native/netio.c). Node's dgram and net
 * cannot set SO_MARK, and lib-packetmark's silent failure is gluon #3613, so every socket is checked with
 * getsockopt before its first send. Setting SO_MARK needs CAP_NET_ADMIN; a socket already marked by
 * lib-packetmark (LD_PRELOAD) passes the check even when setting it here fails.
 */
import type { Socket as DgramSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { MarkError } from './errors.js';

export interface SockmarkAddon {
  setMark(fd: number, mark: number): void;
  getMark(fd: number): number;
  /** A non-blocking TCP socket (family 4 or 6) marked before it exists on the wire. */
  tcpSocket(family: number, mark: number): number;
  closeFd(fd: number): void;
}

interface ErrnoLike {
  code?: unknown;
}

function errnoCode(err: unknown): string {
  const code = (err as ErrnoLike | null)?.code;
  return typeof code === 'string' ? code : '';
}

let cached: SockmarkAddon | MarkError | undefined;

/**
 * Loads the addon: packages/os/build/netio.node from dist/ in the workspace, then ./netio.node next to a bundle
 * (mk/stage.mjs).
 */
export function loadAddon(): SockmarkAddon | MarkError {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const reasons: string[] = [];
  for (const path of ['../../os/build/netio.node', './netio.node']) {
    try {
      cached = require(path) as SockmarkAddon;
      return cached;
    } catch (err: unknown) {
      reasons.push(errnoCode(err) || String(err));
    }
  }
  cached = new MarkError('load', 0, reasons.join(', '));
  return cached;
}

/** The fd of a bound dgram socket, read from its libuv handle (dgram keeps it behind a symbol, not `_handle`). */
export function dgramFd(socket: DgramSocket): number {
  for (const sym of Object.getOwnPropertySymbols(socket)) {
    if (sym.description !== 'state symbol') continue;
    const state: unknown = Reflect.get(socket, sym);
    const handle: unknown = state && typeof state === 'object' ? Reflect.get(state, 'handle') : undefined;
    const fd: unknown = handle && typeof handle === 'object' ? Reflect.get(handle, 'fd') : undefined;
    if (typeof fd === 'number' && fd >= 0) return fd;
  }
  return -1;
}

/**
 * Marks `fd` and reads the mark back. Returns undefined when the socket carries `mark`, else the MarkError that
 * says why not. `trySet` false only verifies (a socket marked by lib-packetmark).
 */
export function markSocket(addon: SockmarkAddon | MarkError, fd: number, mark: number, trySet = true): MarkError | undefined {
  if (addon instanceof MarkError) return new MarkError('load', mark, addon.code);
  if (fd < 0) return new MarkError('fd', mark, '');
  let setFailure: MarkError | undefined;
  if (trySet) {
    try {
      addon.setMark(fd, mark);
    } catch (err: unknown) {
      setFailure = new MarkError('setMark', mark, errnoCode(err));
    }
  }
  let found: number;
  try {
    found = addon.getMark(fd);
  } catch (err: unknown) {
    return new MarkError('getMark', mark, errnoCode(err));
  }
  if (found === mark) return undefined;
  return setFailure ?? new MarkError('verify', mark, '', found);
}
