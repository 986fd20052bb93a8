/**
 * A lock shared by every process that writes meshwan's iptables chains in one namespace, so two `apply()`s in
 * different processes never interleave their read (iptables-save) and write (iptables-restore): interleaved,
 * both could see no jump and both insert one. The xtables lock (-w) only covers one tool run. The lock is held
 * by a child `flock FILE sh -c 'echo; exec cat'`, which the kernel releases when that child dies, so a
 * kill -9 of the holder never leaves a stale lock. Without the `flock` command (util-linux, or BusyBox's applet)
 * only the in-process serialization applies.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackendName, FirewallError } from './errors.js';

let flockAvailable: boolean | undefined;

function hasFlock(): boolean {
  flockAvailable ??= spawnSync('sh', ['-c', 'command -v flock'], { stdio: 'ignore' }).status === 0;
  return flockAvailable;
}

/**
 * One lock file for the whole machine, in /var/lock (OpenWrt: /tmp/lock; Debian: /run/lock), else the temp
 * directory. Not one per namespace: a process started with `ip netns exec` cannot tell its namespace's name,
 * and per-namespace files would pile up (lock files are never deleted: that would race with flock). An apply
 * takes well under a second, so serializing all namespaces costs nothing that matters.
 */
export function lockPath(): string {
  const dir = existsSync('/var/lock') ? '/var/lock' : tmpdir();
  return join(dir, 'meshwan-firewall.lock');
}

/**
 * Runs `fn` while holding the file lock at `path`. Throws FirewallError (backend `backend`) when the lock is not
 * free within `timeoutSeconds`: a writer that hangs must not block every later apply forever.
 */
export async function withFileLock<T>(path: string, backend: BackendName, fn: () => Promise<T>, timeoutSeconds = 60): Promise<T> {
  if (!hasFlock()) return fn();
  const argv = ['flock', '-x', '-w', String(timeoutSeconds), path, 'sh', '-c', 'echo; exec cat >/dev/null'];
  const [command = 'flock', ...args] = argv;
  const holder = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  holder.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once('data', () => resolve());
      holder.once('error', (err) => reject(new FirewallError(backend, argv, null, 0, '', err.message)));
      holder.once('exit', (code) =>
        reject(new FirewallError(backend, argv, code, 0, '', stderr || `the lock ${path} was not free within ${timeoutSeconds} s`)),
      );
    });
    return await fn();
  } finally {
    holder.stdin.end();
  }
}
