/**
 * Addresses as 32-bit words for longest-prefix matching: IPv4 is one word, IPv6 four. A prefix of length L is
 * matched word by word (the last one shifted), so table levels are Maps keyed by numbers, which V8 hashes
 * without touching a string.
 */
import { parseIp } from './codec/ip.js';

const groups = new Uint16Array(8);

/** The common IPv6 forms (no embedded IPv4), parsed without allocating strings; undefined means "use parseIp". */
function fastWords6(text: string): number[] | undefined {
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
  // move the groups after '::' to the end and zero the gap
  if (gap >= 0) {
    const zeros = 8 - n;
    for (let i = n - 1; i >= gap; i--) groups[i + zeros] = groups[i] ?? 0;
    for (let i = gap; i < gap + zeros; i++) groups[i] = 0;
  }
  const g = groups;
  // built in one literal so V8 makes it a double array at once (no element-kind transition per store)
  return [
    (g[0] ?? 0) * 65536 + (g[1] ?? 0),
    (g[2] ?? 0) * 65536 + (g[3] ?? 0),
    (g[4] ?? 0) * 65536 + (g[5] ?? 0),
    (g[6] ?? 0) * 65536 + (g[7] ?? 0),
  ];
}

/** An address as words (1 for IPv4, 4 for IPv6), or undefined when it is not an address. */
export function addressWords(text: string): number[] | undefined {
  if (text.indexOf(':') >= 0 && text.indexOf('.') < 0) {
    const fast = fastWords6(text);
    if (fast !== undefined) return fast;
  }
  const bytes = parseIp(text);
  if (!bytes) return undefined;
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 4)
    words.push((((bytes[i] ?? 0) << 24) | ((bytes[i + 1] ?? 0) << 16) | ((bytes[i + 2] ?? 0) << 8) | (bytes[i + 3] ?? 0)) >>> 0);
  return words;
}

/** Word k of a prefix of `length` bits: the word itself, or its top bits for the last, partial word. */
export function levelKey(words: readonly number[], k: number, length: number): number {
  const bits = length - 32 * k;
  const w = words[k] ?? 0;
  return bits >= 32 ? w : w >>> (32 - bits);
}

/** Whether two addresses share their first `length` bits. */
export function samePrefix(a: readonly number[], b: readonly number[], length: number): boolean {
  for (let k = 0; 32 * k < length; k++) if (levelKey(a, k, length) !== levelKey(b, k, length)) return false;
  return true;
}
