/**
 * Addresses and prefixes as (family, bigint) so that rules, routes and the kernel walk compare numbers, not text:
 * the kernel, iproute2 and uci all spell the same address differently (2001:db8::1 vs 2001:0db8:0:0::1).
 */

import type { IpFamily } from '@meshwan/os';
import { isIPv4, isIPv6 } from '@meshwan/site';

export interface Prefix {
  readonly family: IpFamily;
  readonly addr: bigint;
  readonly len: number;
}

export function bitsOf(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** Parses one address without prefix length; undefined when it is not one. IPv6 zone ids (%eth0) are refused. */
export function parseAddress(text: string): { family: IpFamily; addr: bigint } | undefined {
  if (text.includes('%')) return undefined;
  const kind = isIPv4(text) ? 4 : isIPv6(text) ? 6 : 0;
  if (kind === 4) {
    const n = text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, addr: n };
  }
  if (kind !== 6) return undefined;
  let t = text;
  const lastColon = t.lastIndexOf(':');
  const tail = t.slice(lastColon + 1);
  if (tail.includes('.')) {
    // ::ffff:192.0.2.1: isIP already checked the syntax, so the tail is a valid IPv4 address.
    const v4 = parseAddress(tail)?.addr ?? 0n;
    t = `${t.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [left = '', right] = t.split('::');
  const parse = (s: string): bigint[] => (s === '' ? [] : s.split(':').map((g) => BigInt(Number.parseInt(g, 16))));
  let groups: bigint[];
  if (right === undefined) groups = parse(left);
  else {
    const l = parse(left);
    const r = parse(right);
    groups = [...l, ...new Array<bigint>(8 - l.length - r.length).fill(0n), ...r];
  }
  return { family: 6, addr: groups.reduce((acc, g) => (acc << 16n) | g, 0n) };
}

/** Canonical text (RFC 5952 for IPv6: lower case, longest zero run compressed, first one on a tie). */
export function formatAddress(family: IpFamily, addr: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((addr >> s) & 0xffn)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((addr >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** A mask of `len` leading one bits. */
export function maskOf(family: IpFamily, len: number): bigint {
  const bits = BigInt(bitsOf(family));
  return len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << (bits - BigInt(len));
}

/** Counts the leading ones of a dotted IPv4 netmask (255.255.255.0 → 24); undefined if not contiguous. */
function netmaskLength(text: string): number | undefined {
  const parsed = parseAddress(text);
  if (!parsed || parsed.family !== 4) return undefined;
  for (let len = 0; len <= 32; len++) if (maskOf(4, len) === parsed.addr) return len;
  return undefined;
}

/**
 * Parses ADDR[/LEN] like netifd's parse_ip_and_netmask: LEN defaults to the full length, IPv4 also takes a dotted
 * netmask. Host bits are kept (the kernel keeps them in rules: `to 2001:db8::5/64`); `network()` clears them.
 */
export function parsePrefix(text: string, family?: IpFamily): Prefix | undefined {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const parsed = parseAddress(addrText);
  if (!parsed || (family !== undefined && parsed.family !== family)) return undefined;
  const bits = bitsOf(parsed.family);
  if (slash < 0) return { ...parsed, len: bits };
  const lenText = text.slice(slash + 1);
  let len: number | undefined;
  if (/^\d{1,3}$/.test(lenText)) len = Number(lenText);
  else if (parsed.family === 4) len = netmaskLength(lenText);
  if (len === undefined || len > bits) return undefined;
  return { ...parsed, len };
}

/** The prefix with its host bits cleared (what a route's destination is). */
export function network(p: Prefix): Prefix {
  return { family: p.family, addr: p.addr & maskOf(p.family, p.len), len: p.len };
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p.family, p.addr)}/${p.len}`;
}

/** Whether `addr` lies inside `p` (the kernel's prefix match: host bits of `p` are ignored). */
export function prefixContains(p: Prefix, addr: bigint): boolean {
  const mask = maskOf(p.family, p.len);
  return (p.addr & mask) === (addr & mask);
}

export function samePrefix(a: Prefix | undefined, b: Prefix | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.family === b.family && a.addr === b.addr && a.len === b.len;
}

/** fe80::/10 in canonical (lower-case, RFC 5952) text: its first group is fe80 to febf. */
export function isLinkLocalText(text: string): boolean {
  return /^fe[89ab][0-9a-f]:/.test(text);
}

/** fe80::/10: link-local unicast (RFC 4291 section 2.5.6). */
export function isLinkLocal6(addr: bigint): boolean {
  return addr >> 118n === 0x3fan;
}
