/** The daemon's record of its last repairs, read by `meshwan status`. Written atomically (temp, fsync, rename). */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Repair {
  /** ISO 8601 time. */
  readonly at: string;
  readonly change: string;
}

export const KEEP_REPAIRS = 20;

function repairsFile(stateDir: string): string {
  return join(stateDir, 'repairs.json');
}

export function readRepairs(stateDir: string): Repair[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(repairsFile(stateDir), 'utf8'));
    return Array.isArray(parsed) ? (parsed as Repair[]) : [];
  } catch {
    return []; // no daemon has run yet
  }
}

export function writeRepairs(stateDir: string, repairs: readonly Repair[]): void {
  writeStateFile(repairsFile(stateDir), `${JSON.stringify(repairs.slice(-KEEP_REPAIRS), null, 1)}\n`);
}

/** Atomic write into the state dir (created if missing): temp file, fsync, rename, fsync the directory. */
export function writeStateFile(file: string, text: string): void {
  const stateDir = dirname(file);
  mkdirSync(stateDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(stateDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
