/**
 * Prefix keys for longest-prefix matching: an address as lowercase hex, and a prefix of length L as the first
 * ceil(L/4) hex digits with the last digit masked. Two addresses share an L-prefix iff their L-keys are equal,
 * so a table level is a Map lookup.
 */
import { parseIp } from './codec/ip.js';

const HEX = '0123456789abcdef';
const NIBBLE_MASK = [0xf, 0x8, 0xc, 0xe];

/** Lowercase hex of an address given as text, or undefined when it is not an address. */
export function addressHex(text: string): string | undefined {
  const bytes = parseIp(text);
  return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex') : undefined;
}

export function prefixKey(hex: string, length: number): string {
  const full = length >> 2;
  const rem = length & 3;
  if (rem === 0) return hex.slice(0, full);
  const nibble = HEX.indexOf(hex.charAt(full)) & (NIBBLE_MASK[rem] ?? 0xf);
  return hex.slice(0, full) + HEX.charAt(nibble);
}
