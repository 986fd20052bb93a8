/**
 * The WAN mark on upstream sockets, through the seam's sockets (packages/os, native/netio.c). No engine's own
 * sockets can set SO_MARK, and lib-packetmark's silent failure is gluon #3613, so every socket is checked with
 * getsockopt before its first send. Setting SO_MARK needs CAP_NET_ADMIN; a socket already marked by
 * lib-packetmark (LD_PRELOAD) passes the check even when setting it here fails.
 */
import { OsError, type Sockets, sockets } from '@meshwan/os';
import { MarkError } from './errors.js';

/** What marking needs of the seam's sockets. */
export type SockmarkAddon = Pick<Sockets, 'setMark' | 'getMark' | 'tcpSocket' | 'closeFd'>;

function errnoCode(err: unknown): string {
  return err instanceof OsError ? err.code : '';
}

/**
 * The seam's sockets, or a MarkError('load') when the engine's binding is missing (Node without netio.node:
 * packages/os build/netio.node in the workspace, ./netio.node next to a bundle).
 */
export function loadAddon(): Sockets | MarkError {
  try {
    sockets.check();
    return sockets;
  } catch (err: unknown) {
    return new MarkError('load', 0, err instanceof OsError ? `${err.code} ${err.path ?? ''}`.trim() : String(err));
  }
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
