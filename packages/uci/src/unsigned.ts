/**
 * The one parser for unsigned numbers in config values and flags: netifd reads `ip6table`, `ip4table`, `mark`
 * and `priority` with strtoul(text, &end, 0) and rejects trailing text (`*end`), and iproute2's get_u32(…, 0)
 * does the same, so `0x10` is 16, `010` is 8 (octal) and `10` is 10.
 */
import { NumberError } from './errors.js';

export interface UnsignedRange {
  /** Smallest accepted value (default 0). */
  readonly min?: number;
  /** Largest accepted value (default 0xffffffff, a u32 as tables and marks are). */
  readonly max?: number;
}

export type Unsigned = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly reason: string };

/*
 * strtoul's grammar with base 0, kept exactly where it gives a value netifd would use as is:
 * - leading C whitespace (isspace: space \t \n \v \f \r) is skipped, as strtoul does; trailing text of any kind,
 *   whitespace included, is rejected, as netifd's `*end` check does;
 * - `+` is accepted (strtoul does); `-` is rejected: strtoul would wrap "-1" to ULONG_MAX;
 * - empty text is rejected (netifd's `end == text` check, iproute2's `!*arg`);
 * - `0x` without hex digits and `08` are rejected: strtoul stops after the `0` and leaves `x`/`8` as trailing text;
 * - a value past `max` is rejected instead of truncated (netifd stores it in an unsigned int).
 */
const grammar = /^[ \t\n\v\f\r]*(\+?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;

/** Reads `text` as strtoul(text, 0) over the whole string; `reason` says what was expected and what was found. */
export function readUnsigned(text: string, range: UnsignedRange = {}): Unsigned {
  const min = range.min ?? 0;
  const max = range.max ?? 0xffffffff;
  const digits = grammar.exec(text)?.[2];
  if (digits === undefined) {
    const why = /^\s*-/.test(text) ? 'a negative number' : JSON.stringify(text);
    return { ok: false, reason: `expected an unsigned number (decimal, 0x hex or 0 octal) ${min}..${max}, got ${why}` };
  }
  let value: number;
  if (/^0[xX]/.test(digits)) value = Number.parseInt(digits.slice(2), 16);
  else if (digits.startsWith('0')) value = digits.length > 1 ? Number.parseInt(digits.slice(1), 8) : 0;
  else value = Number.parseInt(digits, 10);
  if (value < min || value > max) return { ok: false, reason: `expected ${min}..${max}, got ${JSON.stringify(text)}` };
  return { ok: true, value };
}

/** readUnsigned, or a NumberError naming `field` (a flag like `--mark`, or `file: section.option`). */
export function parseUnsigned(text: string, options: UnsignedRange & { readonly field: string }): number {
  const parsed = readUnsigned(text, options);
  if (!parsed.ok) throw new NumberError(options.field, text, parsed.reason);
  return parsed.value;
}
