/** Errors of @meshwan/wan-dns. Each carries where it happened as fields, not only in its message. */
import { LineError, PlaceError } from '@meshwan/uci';

/**
 * Thrown when a configuration input cannot be used: a bad flag value, or a bad line in the uci config or the
 * resolv file. `file` is the flag name (e.g. `--server`) for flags; `line` is 1-based, 0 when not about a line.
 */
export class ConfigError extends LineError {
  override readonly name = 'ConfigError';
}

/**
 * Thrown when an upstream socket cannot carry the WAN mark: the addon is missing, setsockopt(SO_MARK) failed
 * (EPERM without CAP_NET_ADMIN) or getsockopt read back another mark. Such a socket never sends (gluon #3613).
 */
export class MarkError extends Error {
  override readonly name = 'MarkError';
  constructor(
    /** What was attempted: 'load', 'socket', 'setMark', 'getMark', 'verify', 'fd'. */
    readonly op: string,
    readonly mark: number,
    /** errno code such as 'EPERM'; '' when not a syscall failure. */
    readonly code: string,
    /** The mark read back by getsockopt, when `op` is 'verify'. */
    readonly found?: number,
  ) {
    super(
      op === 'verify'
        ? `upstream socket mark is 0x${(found ?? 0).toString(16)}, expected 0x${mark.toString(16)}`
        : `cannot mark upstream socket with 0x${mark.toString(16)}: ${op}${code ? `: ${code}` : ''}`,
    );
  }
}

/** Thrown when a DNS message is malformed; `offset` is where decoding stopped. The daemon drops or FORMERRs it. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`DNS message: ${reason} at offset ${offset}`);
  }
}

/** Thrown when the daemon cannot start: a listener cannot bind, or it would run in the mesh-VPN group (a DNS loop). */
export class StartError extends PlaceError {
  override readonly name = 'StartError';
}
