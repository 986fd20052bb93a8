/** RTM_NEWADDR/RTM_DELADDR bodies: struct ifaddrmsg (8 bytes) + IFA_* attributes (linux/if_addr.h). */

import type { IpFamily } from '@meshwan/os';
import { DecodeError } from '../errors.js';
import { attributeTable, readAttributes } from './attributes.js';
import { setU32, u32 } from './bytes.js';
import {
  AF_INET,
  AF_INET6,
  addressFlagNames,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_CACHEINFO,
  IFA_F_NODAD,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFA_RT_PRIORITY,
  scopeNames,
} from './constants.js';
import { parsePrefix, requireIp } from './ip.js';
import { MessageWriter, NLMSG_HDRLEN, type RawAttribute } from './message.js';

export interface Address {
  family: IpFamily;
  /** interface index (ifa_index) */
  index: number;
  /** the interface's own address (IFA_LOCAL, or IFA_ADDRESS when there is no IFA_LOCAL) */
  address: string;
  prefixLength: number;
  /** IFA_ADDRESS when it differs from IFA_LOCAL (the peer of a point-to-point link) */
  peer?: string;
  broadcast?: string;
  label?: string;
  scope: string;
  /** IFA_FLAGS (or ifa_flags): raw bits and names ('tentative', 'dadfailed', 'deprecated', 'permanent', ...) */
  flags: number;
  flagNames: string[];
  /** IFA_CACHEINFO lifetimes in seconds; 0xffffffff means forever */
  preferredLifetimeSeconds: number;
  validLifetimeSeconds: number;
  metric?: number;
  unknown: RawAttribute[];
}

export const FOREVER = 0xffffffff;

const addressAttributes = attributeTable<Address>({
  ip: { IFA_LOCAL: 'address', IFA_ADDRESS: 'peer', IFA_BROADCAST: 'broadcast' },
  string: { IFA_LABEL: 'label' },
  u32: { IFA_FLAGS: 'flags', IFA_RT_PRIORITY: 'metric' },
  read: {
    IFA_CACHEINFO: (a, buf, s, e) => {
      if (e - s !== 16) throw new DecodeError(s, 'IFA_CACHEINFO: expected 16 bytes');
      a.preferredLifetimeSeconds = u32(buf, s);
      a.validLifetimeSeconds = u32(buf, s + 4);
    },
  },
});

export function decodeAddress(buf: Uint8Array, offset: number, end: number): Address {
  const body = offset + NLMSG_HDRLEN;
  if (end - body < 8) throw new DecodeError(body, `ifaddrmsg needs 8 bytes, have ${end - body}`);
  const af = buf[body];
  if (af !== AF_INET && af !== AF_INET6) throw new DecodeError(body, `ifaddrmsg: unknown family ${af}`);
  const family: IpFamily = af === AF_INET ? 4 : 6;
  const alen = af === AF_INET ? 4 : 16;
  const scope = buf[body + 3] ?? 0;
  const a: Address = {
    family,
    index: u32(buf, body + 4),
    address: '',
    prefixLength: buf[body + 1] ?? 0,
    scope: scopeNames[scope] ?? String(scope),
    flags: buf[body + 2] ?? 0,
    flagNames: [],
    preferredLifetimeSeconds: FOREVER,
    validLifetimeSeconds: FOREVER,
    unknown: [],
  };
  readAttributes(buf, body + 8, end, addressAttributes, a, alen);
  // IFA_LOCAL is the address; IFA_ADDRESS the peer of a point-to-point one, else the same (read into `peer`)
  const addr = a.peer;
  if (addr !== undefined) delete a.peer;
  if (a.address === '') a.address = addr ?? '';
  else if (addr !== undefined && addr !== a.address) a.peer = addr;
  const flags = a.flags;
  for (const [bit, name] of addressFlagNames) {
    if (flags & bit) a.flagNames.push(bit === 1 ? (family === 4 ? 'secondary' : 'temporary') : name);
  }
  return a;
}

export interface AddressSpec {
  /** `2001:db8::1/64` or `192.0.2.1/24` */
  address: string;
  /** interface index */
  index: number;
  peer?: string;
  broadcast?: string;
  label?: string;
  /** skip duplicate address detection (IFA_F_NODAD), IPv6 only */
  nodad?: boolean;
  scope?: number;
  metric?: number;
  validLifetimeSeconds?: number;
  preferredLifetimeSeconds?: number;
}

/** Encodes an RTM_NEWADDR/RTM_DELADDR request. */
export function encodeAddress(type: number, flags: number, spec: AddressSpec): MessageWriter {
  const p = parsePrefix(spec.address, 'address');
  const w = new MessageWriter(type, flags);
  let ifaFlags = spec.nodad ? IFA_F_NODAD : 0;
  w.u8(p.family === 4 ? AF_INET : AF_INET6)
    .u8(p.length)
    .u8(ifaFlags & 0xff)
    .u8(spec.scope ?? 0)
    .u32(spec.index);
  w.attr(IFA_LOCAL, p.bytes);
  w.attr(IFA_ADDRESS, spec.peer ? requireIp(spec.peer, 'peer', p.family) : p.bytes);
  if (spec.broadcast) w.attr(IFA_BROADCAST, requireIp(spec.broadcast, 'broadcast', 4));
  if (spec.label) w.attrString(IFA_LABEL, spec.label);
  if (spec.metric !== undefined) w.attrU32(IFA_RT_PRIORITY, spec.metric);
  if (spec.validLifetimeSeconds !== undefined || spec.preferredLifetimeSeconds !== undefined) {
    const ci = new Uint8Array(16);
    setU32(ci, 0, spec.preferredLifetimeSeconds ?? spec.validLifetimeSeconds ?? FOREVER);
    setU32(ci, 4, spec.validLifetimeSeconds ?? FOREVER);
    w.attr(IFA_CACHEINFO, ci);
  }
  ifaFlags |= 0;
  if (ifaFlags > 0xff) w.attrU32(IFA_FLAGS, ifaFlags);
  return w;
}
