/**
 * A lock shared by every process that writes meshwan's iptables chains in one namespace, so two `apply()`s in
 * different processes never interleave their read (iptables-save) and write (iptables-restore): interleaved,
 * both could see no jump and both insert one. The xtables lock (-w) only covers one tool run. The lock is held
 * by a child `flock FILE sh -c 'echo; exec cat'`, which the kernel releases when that child dies, so a
 * kill -9 of the holder never leaves a stale lock. Without the `flock` command (util-linux, or BusyBox's applet)
 * only the in-process serialization applies.
 */
import { type Child, files, proc, programs } from '@meshwan/os';
import { type BackendName, FirewallError } from './errors.js';

let flockAvailable: boolean | undefined;

function hasFlock(): boolean {
  flockAvailable ??= programs.which('flock') !== undefined;
  return flockAvailable;
}

/**
 * One lock file for the whole machine, in /var/lock (OpenWrt: /tmp/lock; Debian: /run/lock), else the temp
 * directory. Not one per namespace: a process started with `ip netns exec` cannot tell its namespace's name,
 * and per-namespace files would pile up (lock files are never deleted: that would race with flock). An apply
 * takes well under a second, so serializing all namespaces costs nothing that matters.
 */
export function lockPath(): string {
  const dir = files.exists('/var/lock') ? '/var/lock' : (proc.env('TMPDIR') ?? '/tmp').replace(/(.)\/+$/, '$1');
  return `${dir}/meshwan-firewall.lock`;
}

/**
 * Runs `fn` while holding the file lock at `path`. Throws FirewallError (backend `backend`) when the lock is not
 * free within `timeoutSeconds`: a writer that hangs must not block every later apply forever.
 */
export async function withFileLock<T>(path: string, backend: BackendName, fn: () => Promise<T>, timeoutSeconds = 60): Promise<T> {
  if (!hasFlock()) return fn();
  const argv = ['flock', '-x', '-w', String(timeoutSeconds), path, 'sh', '-c', 'echo; exec cat >/dev/null'];
  const [command = 'flock', ...args] = argv;
  let locked: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    locked = resolve;
  });
  let holder: Child;
  try {
    holder = programs.spawn([command, ...args], { onStdout: () => locked() });
  } catch (err: unknown) {
    throw new FirewallError(backend, argv, null, 0, '', err instanceof Error ? err.message : String(err));
  }
  try {
    // the holder prints its line once it has the lock; it ends first when flock times out
    const ended = await Promise.race([held.then(() => undefined), holder.done]);
    if (ended !== undefined)
      throw new FirewallError(backend, argv, ended.code, 0, '', ended.stderr || `the lock ${path} was not free within ${timeoutSeconds} s`);
    return await fn();
  } finally {
    holder.endInput();
  }
}
