/**
 * The fd of a Node dgram socket, for @meshwan/uplinks's probes on Node (its own port to the seam comes later).
 * Type-only use of node:dgram: nothing of it reaches a bundle.
 */
import type { Socket as DgramSocket } from 'node:dgram';

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
