/**
 * Durable file writes for the files that are not uci configs (/etc/group, /etc/passwd, /etc/shadow), through
 * @meshwan/os's files.writeAtomic (temp, fsync, rename, fsync of the directory).
 * The mode of an existing file is kept (/etc/shadow stays 0600).
 */
import { files, OsError } from '@meshwan/os';
import { UpgradeError } from './errors.js';

function code(err: unknown): string {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : String(err);
}

/** The file's text; '' when it does not exist. Any other failure throws an UpgradeError naming the file. */
export function readText(path: string): string {
  try {
    return files.readText(path);
  } catch (err: unknown) {
    if (code(err) === 'ENOENT') return '';
    throw new UpgradeError(path, `cannot read: ${code(err)}`);
  }
}

export function fileExists(path: string): boolean {
  return files.exists(path);
}

/** Writes `text` atomically and durably; does nothing when the file already holds exactly `text`. */
export function writeTextAtomic(path: string, text: string, defaultMode = 0o644): boolean {
  if (fileExists(path) && readText(path) === text) return false;
  let mode = defaultMode;
  try {
    mode = files.stat(path).mode & 0o7777;
  } catch (err: unknown) {
    // A new file gets defaultMode.
    if (!(err instanceof OsError)) throw err;
  }
  try {
    files.writeAtomic(path, text, { mode, mkdir: true });
  } catch (err: unknown) {
    throw new UpgradeError(path, `cannot write: ${code(err)}`);
  }
  return true;
}
