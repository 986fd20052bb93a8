/**
 * uci is byte-oriented: names and values are C strings. Internally every string is a "byte string" (one JS char
 * per byte, latin1), so files with any bytes round-trip exactly. The public API speaks UTF-8 JS strings; these
 * helpers convert at that boundary, with an ASCII fast path (the common case costs one regex test).
 */
import { Buffer } from 'node:buffer';

const NON_ASCII = /[\u0080-\uffff]/;

/** UTF-8 JS string -> byte string. */
export function toBytes(text: string): string {
  return NON_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

/** Byte string -> UTF-8 JS string (invalid UTF-8 becomes U+FFFD; use the byte-level API to keep it). */
export function fromBytes(bytes: string): string {
  return NON_ASCII.test(bytes) ? Buffer.from(bytes, 'latin1').toString('utf8') : bytes;
}

/** Raw bytes of a byte string, for writing to a file or stdout. */
export function byteBuffer(bytes: string): Buffer {
  return Buffer.from(bytes, 'latin1');
}

/** A file's or a caller's input as raw bytes: strings are taken as UTF-8 text. */
export function inputBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
}
