/**
 * Durable file writes for the files that are not uci configs (/etc/group, /etc/passwd, /etc/shadow): temp file in
 * the same directory, fsync, rename, fsync the directory, so a power cut leaves the old file or the new one.
 * The mode of an existing file is kept (/etc/shadow stays 0600).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UpgradeError } from './errors.js';

function code(err: unknown): string {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : String(err);
}

/** The file's text; '' when it does not exist. Any other failure throws an UpgradeError naming the file. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err: unknown) {
    if (code(err) === 'ENOENT') return '';
    throw new UpgradeError(path, `cannot read: ${code(err)}`);
  }
}

export function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes `text` atomically and durably; does nothing when the file already holds exactly `text`. */
export function writeTextAtomic(path: string, text: string, defaultMode = 0o644): boolean {
  if (fileExists(path) && readText(path) === text) return false;
  let mode = defaultMode;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch {
    // A new file gets defaultMode.
  }
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.meshwan-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch (err: unknown) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or never created.
    }
    throw new UpgradeError(path, `cannot write: ${code(err)}`);
  }
  return true;
}
