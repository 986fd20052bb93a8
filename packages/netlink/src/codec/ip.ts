/**
 * IP addresses and prefixes between text and bytes. Formatting follows inet_ntop (RFC 5952 zero compression,
 * glibc's embedded-IPv4 forms), so our output matches iproute2's.
 */

import type { IpFamily } from '@meshwan/os';
import { RequestError } from '../errors.js';
import { wordsOfBytes } from './bytes.js';

function parse4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parse6(text: string): Uint8Array | undefined {
  let head = text;
  let tail4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail4 = parse4(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0] ?? '');
  const right = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i] ?? '';
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

/** Parses an IPv4 or IPv6 address (no prefix); undefined when it is not one. */
export function parseIp(text: string): Uint8Array | undefined {
  return text.includes(':') ? parse6(text) : parse4(text);
}

/** Like parseIp, but throws RequestError naming the field. */
export function requireIp(text: string, field: string, family?: IpFamily): Uint8Array {
  const bytes = parseIp(text);
  if (!bytes || (family && (family === 4) !== (bytes.length === 4)))
    throw new RequestError(field, text, family === 4 ? 'an IPv4 address' : family === 6 ? 'an IPv6 address' : 'an IP address');
  return bytes;
}

export interface Prefix {
  bytes: Uint8Array;
  length: number;
  family: IpFamily;
}

/** Parses `2001:db8::/32`, `192.0.2.0/24`, a bare address (full length) or `default` (needs the family). */
export function parsePrefix(text: string, field: string, family?: IpFamily): Prefix {
  if (text === 'default' || text === 'all') {
    if (!family) throw new RequestError(field, text, 'a prefix with an address (the family is unknown)');
    return { bytes: new Uint8Array(family === 4 ? 4 : 16), length: 0, family };
  }
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = requireIp(addr, field, family);
  const max = bytes.length * 8;
  const lenText = slash < 0 ? String(max) : text.slice(slash + 1);
  const length = /^\d{1,3}$/.test(lenText) ? Number(lenText) : Number.NaN;
  if (!(length >= 0 && length <= max)) throw new RequestError(field, text, `a prefix length 0..${max}`);
  return { bytes, length, family: bytes.length === 4 ? 4 : 6 };
}

const words = new Uint16Array(8);
// Per-byte tables instead of one for all 65536 words: that one cost every importing process about 9 MB of RSS.
const HEX8: string[] = [];
const HEX8_PADDED: string[] = [];
for (let i = 0; i < 256; i++) {
  HEX8.push(i.toString(16));
  HEX8_PADDED.push(i.toString(16).padStart(2, '0'));
}

/** One word in hex without leading zeros. */
function hexWord(w: number): string {
  return w < 256 ? (HEX8[w] ?? '') : (HEX8[w >>> 8] ?? '') + (HEX8_PADDED[w & 0xff] ?? '');
}

/**
 * Formats 4 or 16 bytes at `offset` the way inet_ntop does (called once per address in a dump: no allocation but
 * the result). Strings are joined with `+`, not templates: QuickJS runs a template's parts through ToString, and a
 * 100k-route dump formats 200k of these.
 */
export function formatIp(buf: Uint8Array, offset = 0, length = buf.length - offset): string {
  if (length === 4) return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
  const w3 = ((buf[offset + 6] ?? 0) << 8) | (buf[offset + 7] ?? 0);
  const aligned = (offset & 3) === 0 ? wordsOfBytes(buf) : undefined;
  if (w3 !== 0 && (aligned ? aligned[(offset >>> 2) + 2] === 0 && aligned[(offset >>> 2) + 3] === 0 : lowerHalfZero(buf, offset))) {
    // a prefix of at most 64 bits (most routes): the zero run is the lower half, no earlier run can be as long;
    // hexWord inlined (QuickJS's calls are dear, and this runs for every route of a dump)
    const w0 = ((buf[offset] ?? 0) << 8) | (buf[offset + 1] ?? 0);
    const w1 = ((buf[offset + 2] ?? 0) << 8) | (buf[offset + 3] ?? 0);
    const w2 = ((buf[offset + 4] ?? 0) << 8) | (buf[offset + 5] ?? 0);
    return (
      (w0 < 256 ? HEX8[w0] : (HEX8[w0 >>> 8] ?? '') + HEX8_PADDED[w0 & 0xff]) +
      ':' +
      (w1 < 256 ? HEX8[w1] : (HEX8[w1 >>> 8] ?? '') + HEX8_PADDED[w1 & 0xff]) +
      ':' +
      (w2 < 256 ? HEX8[w2] : (HEX8[w2 >>> 8] ?? '') + HEX8_PADDED[w2 & 0xff]) +
      ':' +
      (w3 < 256 ? HEX8[w3] : (HEX8[w3 >>> 8] ?? '') + HEX8_PADDED[w3 & 0xff]) +
      '::'
    );
  }
  // the words and the longest run of zero words (the first of equal length) in one pass
  let bestBase = -1;
  let bestLen = 0;
  let runBase = 0;
  let runLen = 0;
  for (let i = 0; i < 8; i++) {
    const w = ((buf[offset + i * 2] ?? 0) << 8) | (buf[offset + i * 2 + 1] ?? 0);
    words[i] = w;
    if (w !== 0) runLen = 0;
    else {
      if (runLen === 0) runBase = i;
      if (++runLen > bestLen) {
        bestBase = runBase;
        bestLen = runLen;
      }
    }
  }
  if (bestLen < 2) bestBase = -1;
  // glibc prints ::a.b.c.d and ::ffff:a.b.c.d (deprecated compatible and mapped forms)
  if (
    bestBase === 0 &&
    (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff)) &&
    !(bestLen === 6 && words[6] === 0 && (words[7] ?? 0) <= 1)
  ) {
    const v4 = `${buf[offset + 12]}.${buf[offset + 13]}.${buf[offset + 14]}.${buf[offset + 15]}`;
    return bestLen === 6 ? `::${v4}` : `::ffff:${v4}`;
  }
  let out = '';
  const skipTo = bestBase < 0 ? -1 : bestBase + bestLen;
  for (let i = 0; i < 8; i++) {
    if (i === bestBase) {
      out += '::';
      i = skipTo - 1;
    } else {
      if (i !== 0 && i !== skipTo) out += ':';
      out += hexWord(words[i] ?? 0);
    }
  }
  return out;
}

function lowerHalfZero(buf: Uint8Array, offset: number): boolean {
  for (let i = offset + 8; i < offset + 16; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * formatIp that remembers the last address it formatted: a dump's gateways and preferred sources repeat route
 * after route, and comparing the address costs QuickJS a fraction of formatting it (4 word reads when the bytes
 * are 4-aligned, as a receive buffer's attributes are).
 */
export class IpMemo {
  private readonly bytes = new Uint8Array(16);
  private readonly words = new Uint32Array(this.bytes.buffer);
  private length = 0;
  private text = '';

  format(buf: Uint8Array, offset: number, length: number): string {
    if (length === this.length) {
      const w = (offset & 3) === 0 ? wordsOfBytes(buf) : undefined;
      const mine = this.words;
      if (w) {
        const i = offset >>> 2;
        if (w[i] === mine[0] && (length === 4 || (w[i + 1] === mine[1] && w[i + 2] === mine[2] && w[i + 3] === mine[3]))) return this.text;
      } else {
        let same = true;
        for (let i = 0; same && i < length; i++) same = buf[offset + i] === this.bytes[i];
        if (same) return this.text;
      }
    }
    this.bytes.set(buf.subarray(offset, offset + length));
    this.length = length;
    this.text = formatIp(buf, offset, length);
    return this.text;
  }
}

/** `addr/len`, with `default` for a zero-length prefix as iproute2 prints it. */
export function formatPrefix(address: string, length: number, family: IpFamily): string {
  if (length === 0) return 'default';
  return length === (family === 4 ? 32 : 128) ? address : `${address}/${length}`;
}
