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

let flockAvailable: boolean | undefined;

function hasFlock(): boolean {
  flockAvailable ??= spawnSync('sh', ['-c', 'command -v flock'], { stdio: 'ignore' }).status === 0;
  return flockAvailable;
}

/** /var/lock (OpenWrt: /tmp/lock; Debian: /run/lock), else the temp directory. */
export function lockPath(name: string): string {
  const dir = existsSync('/var/lock') ? '/var/lock' : tmpdir();
  return join(dir, `meshwan-firewall-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.lock`);
}

/** Runs `fn` while holding the file lock at `path`. */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  if (!hasFlock()) return fn();
  const holder = spawn('flock', ['-x', path, 'sh', '-c', 'echo; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once('data', () => resolve());
      holder.once('error', reject);
      holder.once('exit', (code) => reject(new Error(`flock ${path} exited with ${code} before taking the lock`)));
    });
    return await fn();
  } finally {
    holder.stdin.end();
  }
}
