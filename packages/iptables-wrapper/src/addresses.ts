/**
 * Address and CIDR checks for rule matches. Pure. A CIDR with host bits set (192.0.2.1/24) is refused: iptables
 * would silently mask it and nft would print it differently, so the rule would not mean what it says.
 */
import type { IpFamily } from '@meshwan/os';
import { isIPv4, isIPv6 } from '@meshwan/site';

/** The address as a 32- or 128-bit number. Caller has checked it with isIPv4/isIPv6. */
function toBigInt(address: string, family: IpFamily): bigint {
  if (family === 4) return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  let text = address;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = toBigInt(v4[1], 4);
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/** Returns undefined when `text` is an address or CIDR of `family` without host bits, else the reason it is not. */
export function checkCidr(text: string, family: IpFamily): string | undefined {
  const [address = '', prefix, extra] = text.split('/');
  const bits = family === 4 ? 32 : 128;
  const ok = family === 4 ? isIPv4(address) : isIPv6(address);
  if (!ok || extra !== undefined) {
    return `expected an ${family === 4 ? 'IPv4' : 'IPv6'} address or CIDR like ${family === 4 ? '192.0.2.0/24' : '2001:db8::/32'}, got ${JSON.stringify(text)}`;
  }
  if (prefix === undefined) return undefined;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) return `prefix length must be 0..${bits}, got ${JSON.stringify(prefix)}`;
  const hostBits = BigInt(bits - Number(prefix));
  const value = toBigInt(address, family);
  if ((value & ((1n << hostBits) - 1n)) !== 0n) return `${text} has host bits set`;
  return undefined;
}

/** `address` alone, checked as a host address of `family`. */
export function checkHost(text: string, family: IpFamily): string | undefined {
  const ok = family === 4 ? isIPv4(text) : isIPv6(text);
  return ok ? undefined : `expected an ${family === 4 ? 'IPv4' : 'IPv6'} address, got ${JSON.stringify(text)}`;
}
