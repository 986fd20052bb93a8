/**
 * Is a status file a live daemon's? The daemon rewrites it after every probe round, so a file older than a few
 * probe intervals, or one whose writer is gone or was a one-off `once`/`restore`, describes the past. Pure but for
 * pidAlive; shared by `meshwan-uplinks status` and `meshwan status` so that both say the same.
 */
import { signals } from '@meshwan/os';
import type { StatusFile } from './render.js';

/** A live daemon rewrites the file after every probe round; this many intervals without a write means it is stuck. */
export const STALE_INTERVALS = 5;
/** ...but never less than this, so that a loaded node is not called stale between two slow rounds. */
export const STALE_MIN_MS = 10_000;

export interface Freshness {
  readonly fresh: boolean;
  /** seconds since the file was written (its updatedAt); undefined when that is unreadable */
  readonly ageSeconds: number | undefined;
  /** `running: pid N, updated X s ago` or `STALE: why; why` */
  readonly summary: string;
}

export function judgeStatusFile(s: StatusFile, now: Date, alive: (pid: number) => boolean = pidAlive): Freshness {
  const updated = Date.parse(s.updatedAt);
  const ageMs = Number.isNaN(updated) ? Number.POSITIVE_INFINITY : Math.max(0, now.getTime() - updated);
  const ageSeconds = Number.isFinite(ageMs) ? Math.round(ageMs / 100) / 10 : undefined;
  const writer = s.writer;
  const limitMs = Math.max(STALE_INTERVALS * (writer?.intervalMs ?? 0), STALE_MIN_MS);
  const problems: string[] = [];
  if (writer === undefined) problems.push('the file does not say which process wrote it');
  else if (writer.command !== 'daemon') problems.push(`written by a one-off \`meshwan-uplinks ${writer.command}\`, not the daemon`);
  else if (!alive(writer.pid)) problems.push(`its writer (pid ${writer.pid}) is gone`);
  if (ageMs > limitMs)
    problems.push(`updated ${ageSeconds ?? '?'} s ago, more than ${limitMs / 1000} s (${STALE_INTERVALS} probe intervals)`);
  if (problems.length > 0) return { fresh: false, ageSeconds, summary: `STALE: ${problems.join('; ')}` };
  return { fresh: true, ageSeconds, summary: `running: pid ${writer?.pid}, updated ${ageSeconds} s ago` };
}

/** kill(pid, 0): EPERM still means the process exists. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  return signals.alive(pid);
}
