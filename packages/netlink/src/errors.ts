/** Errors of @meshwan/netlink. Each carries what was asked and what went wrong as fields, not only a message. */
import { netlink } from '@meshwan/os';

/**
 * `17` -> `'EEXIST'`, by this ABI's numbering (the seam's C knows it: MIPS numbers many errnos apart from x86);
 * unknown numbers become `'E<number>'` so the code is never empty.
 */
export function errnoName(errno: number): string {
  return netlink.errnoName(errno);
}

/**
 * Thrown when the kernel answers a request with an error (NLMSG_ERROR with a negative code), or a socket call
 * fails. `errno` is positive (17), `code` its name ('EEXIST'), `op` the API call ('addRoute'), `request` a short
 * iproute2-like description of what was asked ('2001:db8::/32 table 1 (inet6)').
 */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  readonly code: string;
  constructor(
    readonly errno: number,
    readonly op: string,
    readonly request: string,
    /** The kernel's extended ack message (NLMSGERR_ATTR_MSG), when it sent one. */
    readonly kernelMessage = '',
  ) {
    const code = errnoName(errno);
    super(`netlink: ${op}${request ? ` ${request}` : ''}: ${code}${kernelMessage ? ` (${kernelMessage})` : ''}`);
    this.errno = Math.abs(errno);
    this.code = code;
  }
}

/** Thrown when bytes from the kernel (or a caller) are not a well-formed netlink message; `offset` is where. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`netlink decode at offset ${offset}: ${reason}`);
  }
}

/** Thrown when a caller passes a value we cannot encode (bad address, prefix length, unknown route type). */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly field: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`netlink request: ${field}: expected ${expected}, got ${JSON.stringify(value)}`);
  }
}

/** Thrown on Node when packages/os build/netio.node cannot be loaded (not built: run `make native`). */
export class AddonError extends Error {
  override readonly name = 'AddonError';
  constructor(readonly tried: readonly string[]) {
    super(`netlink: native addon not found; tried ${tried.join(', ')} (run make native)`);
  }
}
