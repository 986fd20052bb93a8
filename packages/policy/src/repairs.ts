/** The daemon's record of its last repairs, read by `meshwan status`. Written atomically (temp, fsync, rename). */
import { files } from '@meshwan/os';
import { writeFileAtomic } from '@meshwan/uci';
import { joinPath as join } from './path.js';

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
    const parsed: unknown = JSON.parse(files.readText(repairsFile(stateDir)));
    return Array.isArray(parsed) ? (parsed as Repair[]) : [];
  } catch {
    return []; // no daemon has run yet
  }
}

export function writeRepairs(stateDir: string, repairs: readonly Repair[]): void {
  writeStateFile(repairsFile(stateDir), `${JSON.stringify(repairs.slice(-KEEP_REPAIRS), null, 1)}\n`);
}

/** Atomic write into the state dir (created if missing): @meshwan/uci's durable write. */
export function writeStateFile(file: string, text: string): void {
  writeFileAtomic(file, text, { mkdir: true });
}
