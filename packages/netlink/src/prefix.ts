/**
 * Prefix keys for longest-prefix matching: an address as lowercase hex, and a prefix of length L as the first
 * ceil(L/4) hex digits with the last digit masked. Two addresses share an L-prefix iff their L-keys are equal,
 * so a table level is a Map lookup.
 */
import { parseIp } from './codec/ip.js';

const HEX = '0123456789abcdef';
const NIBBLE_MASK = [0xf, 0x8, 0xc, 0xe];

const BYTE_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_HEX.push(i.toString(16).padStart(2, '0'));
const groups = new Uint16Array(8);

/** The common IPv6 forms without an embedded IPv4 part, parsed without allocating; undefined means "use parseIp". */
function fastHex6(text: string): string | undefined {
  let n = 0;
  let gap = -1;
  let value = 0;
  let digits = 0;
  const len = text.length;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? text.charCodeAt(i) : 58; // a final ':' closes the last group
    if (c === 58) {
      if (digits === 0) {
        if (i === 0 && text.charCodeAt(1) === 58) continue;
        if (i < len && i > 0 && text.charCodeAt(i - 1) === 58 && gap < 0) {
          gap = n;
          continue;
        }
        if (i === len && gap === n && text.charCodeAt(len - 1) === 58) break;
        return undefined;
      }
      if (n === 8) return undefined;
      groups[n++] = value;
      value = 0;
      digits = 0;
      continue;
    }
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return undefined;
    if (++digits > 4) return undefined;
    value = (value << 4) | d;
  }
  if (gap < 0 ? n !== 8 : n > 7) return undefined;
  let hex = '';
  const zeros = 8 - n;
  for (let i = 0, g = 0; i < 8; i++) {
    const word = gap >= 0 && i >= gap && i < gap + zeros ? 0 : (groups[g++] ?? 0);
    hex += (BYTE_HEX[word >> 8] ?? '') + (BYTE_HEX[word & 0xff] ?? '');
  }
  return hex;
}

/** Lowercase hex of an address given as text, or undefined when it is not an address. */
export function addressHex(text: string): string | undefined {
  if (text.indexOf(':') >= 0 && text.indexOf('.') < 0) {
    const fast = fastHex6(text);
    if (fast !== undefined) return fast;
  }
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
