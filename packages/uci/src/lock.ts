/**
 * flock(2), the lock libuci takes on config and delta files (util.c uci_open_stream: LOCK_SH to read,
 * LOCK_EX to write). Uses the uci_flock.node addon (packages/uci/Makefile); without it, falls back to
 * util-linux flock(1) on an inherited descriptor: flock locks belong to the open file description, which the
 * child shares, so the lock stays with us after the child exits.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { UciError } from './errors.js';

interface FlockAddon {
  flock(fd: number, op: number): number;
  LOCK_SH: number;
  LOCK_EX: number;
  LOCK_UN: number;
}

function isAddon(x: unknown): x is FlockAddon {
  return typeof x === 'object' && x !== null && typeof (x as { flock?: unknown }).flock === 'function';
}

function loadAddon(): FlockAddon | null {
  const require = createRequire(import.meta.url);
  // ../build/ from dist/ in the tree; ./ next to the esbuild bundle on a node (mk/stage.mjs); the upgrade
  // scripts are bundled into /lib/gluon/upgrade, where an addon cannot sit (the runner would execute it).
  for (const path of ['../build/uci_flock.node', './uci_flock.node', '/usr/lib/meshwan/uci_flock.node']) {
    try {
      const mod: unknown = require(path);
      if (isAddon(mod)) return mod;
    } catch (err: unknown) {
      if (!(err instanceof Error)) throw err;
    }
  }
  return null;
}

const addon = process.env.MESHWAN_UCI_NO_ADDON ? null : loadAddon();

export type LockMode = 'shared' | 'exclusive' | 'unlock';

/** Take (blocking) or drop a flock on an open descriptor. Throws UciError IO when the lock cannot be taken. */
export function flock(fd: number, mode: LockMode, path: string): void {
  if (addon) {
    const op = mode === 'shared' ? addon.LOCK_SH : mode === 'exclusive' ? addon.LOCK_EX : addon.LOCK_UN;
    const errno = addon.flock(fd, op);
    // ENOSYS (38): the file system has no locks; libuci carries on without them.
    if (errno !== 0 && errno !== 38) throw new UciError('IO', 'flock', path, `errno ${errno}`);
    return;
  }
  const flag = mode === 'shared' ? '-s' : mode === 'exclusive' ? '-x' : '-u';
  const res = spawnSync('flock', [flag, '0'], { stdio: [fd, 'ignore', 'pipe'] });
  if (res.status !== 0) throw new UciError('IO', 'flock', path, res.error?.message ?? res.stderr.toString().trim());
}
