/** Errors of @meshwan/upgrade-scripts. Each names the file and what was expected, as fields. */

/**
 * Thrown when an upgrade script cannot reach its end state: a conflicting /etc/group or /etc/passwd entry,
 * an unreadable file, a config that cannot be written. `file` is the path under the root, `reason` what was wrong.
 */
export class UpgradeError extends Error {
  override readonly name = 'UpgradeError';
  constructor(
    readonly file: string,
    readonly reason: string,
    /** `/etc/group` line number (1-based) when the problem is one line; 0 for the whole file. */
    readonly line = 0,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${reason}`);
  }
}

/** Thrown when `meshwan-reconfigure` is called wrongly: an unknown flag or a missing value. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    readonly flag: string,
    reason: string,
  ) {
    super(reason);
  }
}
