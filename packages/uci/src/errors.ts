/** Errors of @meshwan/uci. They mirror libuci's error codes (uci.h enum UCI_ERR_*) and carry fields, not only text. */

/** libuci's error codes, as in uci.h (UCI_ERR_MEM … UCI_ERR_DUPLICATE). */
export type UciErrorCode = 'MEM' | 'INVAL' | 'NOTFOUND' | 'IO' | 'PARSE' | 'DUPLICATE' | 'UNKNOWN';

/** libuci's uci_errstr[] texts, printed by `uci` after "uci: ". */
export const UCI_ERRSTR: Readonly<Record<UciErrorCode, string>> = {
  MEM: 'Out of memory',
  INVAL: 'Invalid argument',
  NOTFOUND: 'Entry not found',
  IO: 'I/O error',
  PARSE: 'Parse error',
  DUPLICATE: 'Duplicate entry',
  UNKNOWN: 'Unknown error',
};

/**
 * Thrown when a uci operation fails the way libuci would fail it: an unknown package or section (NOTFOUND),
 * a malformed address or value (INVAL, PARSE), a file that cannot be read or written (IO).
 * `op` is the API call that failed (e.g. `set`), `target` the address it was given (e.g. `network.lan.proto`).
 */
export class UciError extends Error {
  override readonly name: string = 'UciError';
  constructor(
    readonly code: UciErrorCode,
    readonly op: string,
    readonly target: string,
    detail?: string,
  ) {
    super(`uci: ${op}${target ? ` ${target}` : ''}: ${UCI_ERRSTR[code]}${detail ? ` (${detail})` : ''}`);
  }
}

/**
 * Thrown when a config file (or batch input) does not follow the uci grammar. `reason`, `line` and `byte` are
 * exactly what libuci reports ("Parse error (invalid command) at line 3, byte 0"): `line` counts the
 * newline-terminated lines read so far, `byte` is the offset in libuci's line buffer.
 */
export class UciParseError extends UciError {
  override readonly name = 'UciParseError';
  constructor(
    /** The file (or package name) being parsed, for messages; '' when unknown. */
    readonly file: string,
    readonly reason: string,
    readonly line: number,
    readonly byte: number,
  ) {
    super('PARSE', 'parse', file);
    this.message = `${file ? `${file}: ` : ''}Parse error (${reason}) at line ${line}, byte ${byte}`;
  }
}

/**
 * Thrown by parseUnsigned when a value is not an unsigned number as netifd's strtoul(…, 0) reads it, or is out of
 * range. `field` names where the value came from: a flag (`--mark`) or a config option (`network.wan6_lookup.mark`).
 */
export class NumberError extends Error {
  override readonly name = 'NumberError';
  constructor(
    readonly field: string,
    readonly text: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}
