/**
 * File operations beyond files-api.ts that the control plane needs: symlinks (/proc/PID/ns/net), a file's
 * modification time (a config's change), and writing a file in place (/proc/sys, which cannot be renamed over).
 */
export interface Paths {
  /** The target of the symlink at `path`. Throws OsError (syscall `readlink`). */
  readlink(path: string): string;
  /** The modification time in milliseconds since the epoch. Throws OsError (syscall `stat`). */
  mtimeMs(path: string): number;
  /** Opens an existing file for writing (truncated) and writes `text`. Throws OsError (`open`, `write`). */
  writeInPlace(path: string, text: string): void;
}
