/**
 * Thrown when a system call fails: `code` is the errno's name ('ENOENT'), `syscall` the call ('open'), `path`
 * the file when there is one. Both engines throw this one class, so callers test `err.code`, never a message.
 */
export class OsError extends Error {
  override readonly name = 'OsError';
  constructor(
    readonly code: string,
    readonly errno: number,
    readonly syscall: string,
    readonly path?: string,
  ) {
    super(`${syscall}${path === undefined ? '' : ` ${path}`}: ${code}`);
  }
}
