/**
 * Whether OpenWrt's netifd runs beside meshwan: a process named `netifd` (/proc/PID/comm) in meshwan's own network
 * namespace (/proc/PID/ns/net names the same namespace as /proc/self/ns/net). netifd then owns every rule and
 * route it derives from /etc/config/network, and meshwan adds only its gate (issue #19). The namespace matters:
 * a netifd in another namespace (a container, a test node) configures another kernel table set. The objects
 * themselves cannot tell: netifd's rules carry no protocol (proto unspec), which is also what a hand-made
 * `ip rule add` and meshwan alone produce.
 */
import { files, paths } from '@meshwan/os';
import { joinPath as join } from './path.js';

/** `proc`: the procfs mount (tests point it elsewhere). A process that exits mid-scan is skipped. */
export function netifdRunning(proc = '/proc'): boolean {
  let self: string;
  try {
    self = paths.readlink(join(proc, 'self/ns/net'));
  } catch (err: unknown) {
    // No procfs (not Linux): no netifd either.
    if (isMissing(err)) return false;
    throw err;
  }
  for (const entry of files.list(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (files.readText(join(proc, entry, 'comm')).trim() !== 'netifd') continue;
      if (paths.readlink(join(proc, entry, 'ns/net')) === self) return true;
    } catch (err: unknown) {
      // The process exited between readdir and read, or is not ours to inspect (meshwan run without root).
      if (!isMissing(err) && !isDenied(err)) throw err;
    }
  }
  return false;
}

function isMissing(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ESRCH');
}

function isDenied(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'EACCES' || err.code === 'EPERM');
}
