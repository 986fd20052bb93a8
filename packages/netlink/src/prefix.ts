/**
 * Addresses as 32-bit words for longest-prefix matching: IPv4 is one word, IPv6 four (big-endian, held as signed
 * int32 so the bit operations stay in V8's integer fast paths). A prefix of length L is its words ANDed with the
 * L-bit mask, so matching a prefix is four ANDs and compares, with no strings and no per-lookup arrays.
 */

/** What parseAddressInto found: not an address, IPv4 (one word) or IPv6 (four words). */
export const NOT_IP = 0;
export const IPV4 = 4;
export const IPV6 = 6;

/** CLASS[c] for a character code below 128: a hex digit's value, COLON, DOT or OTHER (one load per character). */
const COLON = 16;
const DOT = 17;
const OTHER = 18;
const CLASS = new Uint8Array(128).fill(OTHER);
for (let c = 0; c < 10; c++) CLASS[48 + c] = c;
for (let c = 0; c < 6; c++) {
  CLASS[65 + c] = 10 + c;
  CLASS[97 + c] = 10 + c;
}
CLASS[58] = COLON;
CLASS[46] = DOT;

/** The eight 16-bit groups of the IPv6 address being parsed (one buffer: parsing is synchronous). */
const groups = new Int32Array(8);

/** Parses dotted-quad text[start, end) as parse4 in codec/ip.ts does (1 to 3 decimal digits, each <= 255). */
function dotted(text: string, start: number, end: number): number | undefined {
  let word = 0;
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 46; // a final '.' closes the last octet
    if (c === 46) {
      if (digits === 0 || value > 255 || octets === 4) return undefined;
      word = (word << 8) | value;
      octets++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && ++digits <= 3) value = value * 10 + c - 48;
    else return undefined;
  }
  return octets === 4 ? word : undefined;
}

/**
 * IPv6 text (RFC 4291 section 2.2: groups of 1 to 4 hex digits, one '::', a dotted IPv4 tail) into `groups`;
 * false when it is not an address. Accepts exactly what parse6 in codec/ip.ts accepts (the codec test compares
 * both on generated and malformed text).
 */
function hex6(text: string): boolean {
  const len = text.length;
  let n = 0;
  let gap = -1;
  let value = 0;
  let digits = 0;
  let i = 0;
  if (len >= 1 && text.charCodeAt(0) === 58) {
    if (len < 2 || text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  for (; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (CLASS[c] as number) : OTHER;
    if (v < 16) {
      if (++digits > 4) return false;
      value = (value << 4) | v;
      continue;
    }
    if (v === COLON) {
      if (digits === 0) {
        // a second ':' in a row opens the gap (only once); the leading '::' was handled above
        if (gap >= 0) return false;
        gap = n;
        continue;
      }
      if (n === 8) return false;
      groups[n++] = value;
      value = 0;
      digits = 0;
      // "a:" must be followed by a group or a second ':'
      if (i === len - 1) return false;
      continue;
    }
    if (v !== DOT) return false;
    // embedded IPv4 (::ffff:192.0.2.1): the digits read so far start it, and it runs to the end
    const word = dotted(text, i - digits, len);
    if (word === undefined || digits === 0 || n > 6) return false;
    groups[n++] = word >>> 16;
    groups[n++] = word & 0xffff;
    digits = 0;
    break;
  }
  if (digits > 0) {
    if (n === 8) return false;
    groups[n++] = value;
  } else if (len === 0 || (gap !== n && text.charCodeAt(len - 1) === 58)) return false;
  if (gap < 0 ? n !== 8 : n > 7) return false;
  if (gap >= 0) {
    // move the groups after '::' to the end and zero the gap
    const zeros = 8 - n;
    for (let k = n - 1; k >= gap; k--) groups[k + zeros] = groups[k] as number;
    for (let k = gap; k < gap + zeros; k++) groups[k] = 0;
  }
  return true;
}

/**
 * Parses an IPv4 or IPv6 address into `out` (IPv4: out[0], the rest zeroed; IPv6: out[0..3]) without allocating;
 * returns IPV4, IPV6 or NOT_IP. The same text is accepted as by parseIp (codec/ip.ts).
 */
export function parseAddressInto(text: string, out: Int32Array): number {
  if (text.indexOf(':') < 0) {
    const word = dotted(text, 0, text.length);
    if (word === undefined) return NOT_IP;
    out[0] = word;
    out[1] = 0;
    out[2] = 0;
    out[3] = 0;
    return IPV4;
  }
  if (!hex6(text)) return NOT_IP;
  const g = groups;
  out[0] = ((g[0] as number) << 16) | (g[1] as number);
  out[1] = ((g[2] as number) << 16) | (g[3] as number);
  out[2] = ((g[4] as number) << 16) | (g[5] as number);
  out[3] = ((g[6] as number) << 16) | (g[7] as number);
  return IPV6;
}

/** An address as a new array of four words (IPv4 in word 0), or undefined; for the update path, not lookups. */
export function addressWords(text: string): Int32Array | undefined {
  const out = new Int32Array(4);
  return parseAddressInto(text, out) === NOT_IP ? undefined : out;
}

/** Word k (0..3) of the mask of a `length`-bit prefix, as int32. */
export function maskWord(length: number, k: number): number {
  const bits = length - 32 * k;
  if (bits >= 32) return -1;
  if (bits <= 0) return 0;
  return -1 << (32 - bits);
}
