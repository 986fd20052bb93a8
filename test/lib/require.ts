/**
 * What a root-tier test file needs (root, a command, a built file) is checked once, at load: a missing part fails
 * the file with a message saying what is missing, never a skip (fail closed: a suite that skipped would look green).
 */

/** Thrown at a test file's load when a part it needs is missing; `missing` lists each, as the message does. */
class MissingPartError extends Error {
  override readonly name = 'MissingPartError';
  constructor(readonly missing: readonly string[]) {
    super(`this test cannot run: ${missing.join('; ')}`);
  }
}

/** Each argument is what is missing (e.g. 'needs root for network namespaces'), or false when that part is there. */
export function requireParts(...missing: readonly (string | false | undefined)[]): void {
  const what = missing.filter((m): m is string => typeof m === 'string' && m !== '');
  if (what.length > 0) throw new MissingPartError(what);
}
