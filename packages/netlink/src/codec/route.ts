/**
 * RTM_NEWROUTE/RTM_DELROUTE/RTM_GETROUTE bodies: struct rtmsg (12 bytes) + RTA_* attributes (linux/rtnetlink.h).
 * The table id is RTA_TABLE when present (ids above 255 do not fit rtm_table, which then reads RT_TABLE_UNSPEC).
 */

import type { IpFamily } from '@meshwan/os';
import { DecodeError, RequestError } from '../errors.js';
import { i32, NLA_LEN_SHIFT, NLA_TYPE_SHIFT, u16, wordsOfBytes } from './bytes.js';
import {
  AF_INET,
  AF_INET6,
  prefNames,
  protocolNames,
  type RouteType,
  RT_TABLE_MAIN,
  RTA_CACHEINFO,
  RTA_DST,
  RTA_EXPIRES,
  RTA_GATEWAY,
  RTA_IIF,
  RTA_MARK,
  RTA_MULTIPATH,
  RTA_OIF,
  RTA_PREF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_SRC,
  RTA_TABLE,
  RTM_F_FIB_MATCH,
  RTM_F_LOOKUP_TABLE,
  routeTypes,
} from './constants.js';
import { formatIp, IpMemo, parsePrefix, requireIp } from './ip.js';
import { checkAttributesEnd, copyBytes, forEachAttribute, MessageWriter, NLMSG_HDRLEN, type RawAttribute, readU32Attr } from './message.js';

export interface Nexthop {
  gateway?: string;
  /** output interface index (rtnh_ifindex) */
  oif: number;
  /** rtnh_hops + 1, as iproute2 prints `weight` */
  weight: number;
  /** RTNH_F_* (dead, onlink, linkdown) */
  flags: number;
}

export interface Route {
  family: IpFamily;
  /** routing table id (RTA_TABLE, so ids above 255 are kept) */
  table: number;
  type: RouteType;
  /** destination network address ('::' or '0.0.0.0' for default) and prefix length */
  dst: string;
  dstLength: number;
  /** source prefix of a source-specific route (RTA_SRC, IPv6 `from`) */
  src?: string;
  srcLength: number;
  tos: number;
  gateway?: string;
  /** output interface index (RTA_OIF) */
  oif?: number;
  iif?: number;
  /** RTA_PRIORITY; IPv4 routes without it have metric 0 */
  metric: number;
  /** rtm_protocol (RTPROT_*), e.g. 2 kernel, 3 boot, 4 static */
  protocol: number;
  /** rtm_scope (RT_SCOPE_*): 0 universe, 253 link, 254 host */
  scope: number;
  /** preferred source address (RTA_PREFSRC) */
  prefsrc?: string;
  /** router preference (RTA_PREF, RFC 4191), IPv6 */
  pref?: 'medium' | 'high' | 'low';
  /** multipath nexthops (RTA_MULTIPATH); absent for single-path routes */
  nexthops?: Nexthop[];
  /** rtm_flags (RTNH_F_* of a single nexthop and RTM_F_*) */
  flags: number;
  mark?: number;
  /**
   * seconds left before the kernel deletes the route (IPv6 RA routes, or added with `expires`): from
   * RTA_CACHEINFO's rta_expires (clock_t, USER_HZ 100) rounded up, so a live route reads at least 1 and 0 means
   * expired but not yet collected; absent when the route does not expire. The kernel reports no RTA_EXPIRES.
   */
  expiresSeconds?: number;
  unknown: RawAttribute[];
}

function familyOfByte(af: number | undefined, at: number): IpFamily {
  if (af === AF_INET) return 4;
  if (af === AF_INET6) return 6;
  throw new DecodeError(at, `rtmsg: unknown family ${af}`);
}

function decodeNexthops(buf: Uint8Array, start: number, end: number, alen: number): Nexthop[] {
  const out: Nexthop[] = [];
  let at = start;
  while (at + 8 <= end) {
    const len = u16(buf, at);
    if (len < 8 || at + len > end) throw new DecodeError(at, `rtnexthop length ${len} outside 8..${end - at}`);
    const nh: Nexthop = { oif: i32(buf, at + 4), weight: (buf[at + 3] ?? 0) + 1, flags: buf[at + 2] ?? 0 };
    forEachAttribute(buf, at + 8, at + len, (type, s, e) => {
      if (type === RTA_GATEWAY) {
        if (e - s !== alen) throw new DecodeError(s, `RTA_GATEWAY in nexthop: ${e - s} bytes, expected ${alen}`);
        nh.gateway = gatewayText.format(buf, s, alen);
      }
    });
    out.push(nh);
    at += (len + 3) & ~3;
  }
  if (at !== end) throw new DecodeError(at, `${end - at} trailing bytes in RTA_MULTIPATH`);
  return out;
}

/** An address attribute of the message's family (`alen` bytes) as text; `memo` for addresses that repeat. */
function ipAttribute(buf: Uint8Array, name: string, start: number, end: number, alen: number, memo?: IpMemo): string {
  if (end - start !== alen) throw new DecodeError(start, `${name}: ${end - start} bytes, expected ${alen}`);
  return memo ? memo.format(buf, start, alen) : formatIp(buf, start, alen);
}

// gateways and preferred sources: a few, repeated over a whole dump
const gatewayText = new IpMemo();
const prefsrcText = new IpMemo();

/**
 * Reads rtmsg and its attributes into `r`. Optional fields are assigned in the order their attributes come (the
 * kernel's fill order: rt6_fill_node, fib_dump_info), so a fresh object's keys, and its JSON, keep that order.
 * A switch rather than attributes.ts's table: a dump decodes 100k routes, and QuickJS sets a field named by a
 * string (the table's readers) several times slower than a literal one.
 */
function readRoute(buf: Uint8Array, offset: number, end: number, r: Route): Route {
  // the message as 32-bit words: a receive buffer's messages and attributes are 4-aligned (NLMSG_ALIGN, NLA_ALIGN)
  const words = (offset & 3) === 0 ? wordsOfBytes(buf) : undefined;
  if (!words) return readUnaligned(buf, offset, end, r);
  const body = offset + NLMSG_HDRLEN;
  if (end - body < 12) throw new DecodeError(body, `rtmsg needs 12 bytes, have ${end - body}`);
  const family = familyOfByte(buf[body], body);
  const alen = family === 4 ? 4 : 16;
  r.family = family;
  // in bounds: body + 12 <= end (checked above)
  r.table = buf[body + 4] as number;
  r.type = routeTypes[buf[body + 7] as number] ?? 'unspec';
  r.dst = family === 4 ? '0.0.0.0' : '::';
  r.dstLength = buf[body + 1] as number;
  r.srcLength = buf[body + 2] as number;
  r.tos = buf[body + 3] as number;
  r.metric = 0;
  r.protocol = buf[body + 5] as number;
  r.scope = buf[body + 6] as number;
  r.flags = words[(body + 8) >>> 2] as number;
  let at = body + 12;
  while (at + 4 <= end) {
    // one word read for the attribute's header and one for a u32 payload (in bounds: at + 4 <= end, len checked)
    const header = words[at >>> 2] as number;
    const len = (header >>> NLA_LEN_SHIFT) & 0xffff;
    const type = (header >>> NLA_TYPE_SHIFT) & 0x3fff; // no NLA_F_NESTED, NLA_F_NET_BYTEORDER
    if (len < 4 || at + len > end) throw new DecodeError(at, `attribute type ${type} length ${len} outside 4..${end - at}`);
    const s = at + 4;
    const e = at + len;
    const word = len === 8 ? (words[(at >>> 2) + 1] as number) : -1;
    // cases in the order the kernel sends them (rt6_fill_node, fib_dump_info): QuickJS tries a switch's cases in turn
    switch (type) {
      case RTA_TABLE:
        r.table = word < 0 ? readU32Attr(buf, 'RTA_TABLE', s, e) : word;
        break;
      case RTA_DST:
        r.dst = ipAttribute(buf, 'RTA_DST', s, e, alen);
        break;
      case RTA_PRIORITY:
        r.metric = word < 0 ? readU32Attr(buf, 'RTA_PRIORITY', s, e) : word;
        break;
      case RTA_GATEWAY:
        r.gateway = ipAttribute(buf, 'RTA_GATEWAY', s, e, alen, gatewayText);
        break;
      case RTA_OIF:
        r.oif = word < 0 ? readU32Attr(buf, 'RTA_OIF', s, e) : word;
        break;
      case RTA_CACHEINFO: {
        // struct rta_cacheinfo: use counters and timers of this dump only, never sent back; kept out of the
        // object because 100k copies of it cost ~20 MB in a full dump. Only rta_expires (offset 8, int32 clock_t,
        // negative once past; rtnl_put_cacheinfo) is read: it is the only place the kernel reports an expiry.
        if (e - s < 12) throw new DecodeError(s, `RTA_CACHEINFO: ${e - s} bytes, expected at least 12`);
        const ticks = (words[(s + 8) >>> 2] as number) | 0;
        if (ticks !== 0) r.expiresSeconds = ticks > 0 ? Math.ceil(ticks / 100) : 0;
        break;
      }
      case RTA_PREF:
        if (e - s !== 1) throw new DecodeError(s, 'RTA_PREF: expected 1 byte');
        r.pref = prefNames[buf[s] ?? 0] ?? 'medium';
        break;
      case RTA_PREFSRC:
        r.prefsrc = ipAttribute(buf, 'RTA_PREFSRC', s, e, alen, prefsrcText);
        break;
      case RTA_SRC:
        r.src = ipAttribute(buf, 'RTA_SRC', s, e, alen);
        break;
      case RTA_MULTIPATH:
        r.nexthops = decodeNexthops(buf, s, e, alen);
        break;
      case RTA_IIF:
        r.iif = word < 0 ? readU32Attr(buf, 'RTA_IIF', s, e) : word;
        break;
      case RTA_MARK:
        r.mark = word < 0 ? readU32Attr(buf, 'RTA_MARK', s, e) : word;
        break;
      case RTA_EXPIRES:
        // the request form (seconds, what encodeRoute sends): dumps carry the expiry in RTA_CACHEINFO
        r.expiresSeconds = word < 0 ? readU32Attr(buf, 'RTA_EXPIRES', s, e) : word;
        break;
      default:
        r.unknown.push({ type, bytes: copyBytes(buf, s, e) });
    }
    at += (len + 3) & ~3;
  }
  checkAttributesEnd(buf, at, end);
  return r;
}

/**
 * A message that does not start 4-aligned in its buffer (never one from a socket): decoded from an aligned copy,
 * a DecodeError's offset given back in the caller's buffer.
 */
function readUnaligned(buf: Uint8Array, offset: number, end: number, r: Route): Route {
  try {
    return readRoute(buf.slice(offset, end), 0, end - offset, r);
  } catch (err: unknown) {
    if (err instanceof DecodeError) throw new DecodeError(err.offset + offset, err.reason);
    throw err;
  }
}

/** A route with every required field zero: what decodeRoute fills, or what decodeRouteInto reuses. */
export function blankRoute(): Route {
  return {
    family: 6,
    table: 0,
    type: 'unspec',
    dst: '',
    dstLength: 0,
    srcLength: 0,
    tos: 0,
    metric: 0,
    protocol: 0,
    scope: 0,
    flags: 0,
    unknown: [],
  };
}

/** Decodes an RTM_NEWROUTE/RTM_DELROUTE message whose nlmsghdr starts at `offset`. */
export function decodeRoute(buf: Uint8Array, offset: number, end: number): Route {
  return readRoute(buf, offset, end, blankRoute());
}

/**
 * Decodes a route into `into`, an object reused for every route of a dump (no object per route): its optional
 * fields and `unknown` are cleared first. What it returns is valid until the next call with the same object.
 */
export function decodeRouteInto(buf: Uint8Array, offset: number, end: number, into: Route): Route {
  into.src = undefined;
  into.gateway = undefined;
  into.oif = undefined;
  into.iif = undefined;
  into.prefsrc = undefined;
  into.pref = undefined;
  into.nexthops = undefined;
  into.mark = undefined;
  into.expiresSeconds = undefined;
  into.unknown.length = 0;
  return readRoute(buf, offset, end, into);
}

export interface NexthopSpec {
  gateway?: string;
  /** output interface index */
  dev?: number;
  /** 1..256 */
  weight?: number;
  onlink?: boolean;
}

/** What to add, replace or delete. Unset fields get iproute2's defaults (table main, protocol boot on add). */
export interface RouteSpec {
  /** `2001:db8::/32`, `192.0.2.0/24`, or `default` with `family` */
  dst: string;
  family?: IpFamily;
  table?: number;
  type?: RouteType;
  metric?: number;
  /** RTPROT_* number or name ('static', 'boot', 'kernel') */
  protocol?: number | string;
  /** RT_SCOPE_* number; defaults as iproute2 (link for a gatewayless unicast add, host for local) */
  scope?: number;
  /** output interface index (RTA_OIF) */
  dev?: number;
  gateway?: string;
  /** source prefix (RTA_SRC; IPv6 source-specific routing) */
  from?: string;
  /** preferred source address (RTA_PREFSRC; iproute2 `src`) */
  prefsrc?: string;
  pref?: 'medium' | 'high' | 'low';
  tos?: number;
  onlink?: boolean;
  nexthops?: NexthopSpec[];
  /**
   * seconds until the kernel deletes the route (RTA_EXPIRES, `ip -6 route add ... expires N`); 0xffffffff is
   * forever. IPv6 only: the kernel ignores it on IPv4 routes (they cannot expire), so an IPv4 request with it is
   * refused rather than installing a route that silently never expires.
   */
  expiresSeconds?: number;
}

export function protocolNumber(p: number | string | undefined, fallback: number): number {
  if (p === undefined) return fallback;
  if (typeof p === 'number') return p;
  if (/^\d+$/.test(p)) return Number(p);
  for (const [n, name] of Object.entries(protocolNames)) if (name === p) return Number(n);
  throw new RequestError('protocol', p, 'a number or one of kernel, boot, static, ra, dhcp, ...');
}

function familyByte(f: IpFamily): number {
  return f === 4 ? AF_INET : AF_INET6;
}

/** Encodes an RTM_NEWROUTE or RTM_DELROUTE request (`isDelete` picks iproute2's defaults for a delete). */
export function encodeRoute(type: number, flags: number, spec: RouteSpec, isDelete: boolean): MessageWriter {
  const dst = parsePrefix(spec.dst, 'dst', spec.family);
  const family = dst.family;
  const table = spec.table ?? RT_TABLE_MAIN;
  const rtype = spec.type ?? (isDelete ? 'unspec' : 'unicast');
  const typeNo = routeTypes.indexOf(rtype);
  if (typeNo < 0) throw new RequestError('type', String(rtype), routeTypes.join(', '));
  if (!Number.isInteger(table) || table < 0 || table > 0xffffffff)
    throw new RequestError('table', String(table), 'a table id 0..4294967295');
  const hasGateway = spec.gateway !== undefined || (spec.nexthops?.length ?? 0) > 0;
  let scope = spec.scope;
  if (scope === undefined) {
    if (rtype === 'local' || rtype === 'nat') scope = 254;
    else if (rtype === 'broadcast' || rtype === 'multicast' || rtype === 'anycast') scope = 253;
    else if (rtype === 'unicast' || rtype === 'unspec') scope = isDelete ? 255 : hasGateway ? 0 : 253;
    else scope = 0;
  }
  const w = new MessageWriter(type, flags);
  let src: ReturnType<typeof parsePrefix> | undefined;
  if (spec.from !== undefined) src = parsePrefix(spec.from, 'from', family);
  w.u8(familyByte(family))
    .u8(dst.length)
    .u8(src?.length ?? 0)
    .u8(spec.tos ?? 0)
    .u8(table < 256 ? table : 0)
    .u8(protocolNumber(spec.protocol, isDelete ? 0 : 3))
    .u8(scope)
    .u8(typeNo)
    .u32(spec.onlink ? 4 : 0);
  w.attrU32(RTA_TABLE, table);
  if (dst.length > 0) w.attr(RTA_DST, dst.bytes);
  if (src && src.length > 0) w.attr(RTA_SRC, src.bytes);
  if (spec.metric !== undefined) w.attrU32(RTA_PRIORITY, spec.metric);
  if (spec.gateway !== undefined) w.attr(RTA_GATEWAY, requireIp(spec.gateway, 'gateway', family));
  if (spec.dev !== undefined) w.attrU32(RTA_OIF, spec.dev);
  if (spec.prefsrc !== undefined) w.attr(RTA_PREFSRC, requireIp(spec.prefsrc, 'prefsrc', family));
  if (spec.pref !== undefined) w.attrU8(RTA_PREF, spec.pref === 'high' ? 1 : spec.pref === 'low' ? 3 : 0);
  // not on a delete: the kernel does not match routes by expiry, and an IPv4 delete need not be refused for it
  if (spec.expiresSeconds !== undefined && !isDelete) {
    const x = spec.expiresSeconds;
    if (family !== 6)
      throw new RequestError('expiresSeconds', String(x), 'no expiry on an IPv4 route (the kernel ignores RTA_EXPIRES there)');
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new RequestError('expiresSeconds', String(x), 'whole seconds 0..4294967295');
    // rtm_to_fib6_config(): seconds (addrconf_timeout_fixup with HZ), as iproute2 sends them
    w.attrU32(RTA_EXPIRES, x);
  }
  if (spec.nexthops && spec.nexthops.length > 0) {
    w.begin(RTA_MULTIPATH);
    for (const [i, nh] of spec.nexthops.entries()) {
      const weight = nh.weight ?? 1;
      if (!Number.isInteger(weight) || weight < 1 || weight > 256)
        throw new RequestError(`nexthops[${i}].weight`, String(weight), '1..256');
      w.beginRaw();
      w.u16(0)
        .u8(nh.onlink ? 4 : 0)
        .u8(weight - 1)
        .i32(nh.dev ?? 0);
      if (nh.gateway !== undefined) w.attr(RTA_GATEWAY, requireIp(nh.gateway, `nexthops[${i}].gateway`, family));
      w.end();
    }
    w.end();
  }
  return w;
}

export interface RouteQuery {
  dst: string;
  /** source address (`from`) */
  from?: string;
  mark?: number;
  /** input interface index: asks for the route of a packet arriving there (`iif`) */
  iif?: number;
  /** output interface index (`oif`) */
  oif?: number;
  /** return the FIB entry that matched instead of the resulting dst (RTM_F_FIB_MATCH, `ip route get fibmatch`) */
  fibMatch?: boolean;
}

/** Encodes RTM_GETROUTE for one destination (what `ip route get` sends), asking for the table that answered. */
export function encodeRouteQuery(type: number, flags: number, q: RouteQuery): MessageWriter {
  const dst = requireIp(q.dst, 'dst');
  const family: IpFamily = dst.length === 4 ? 4 : 6;
  const src = q.from !== undefined ? requireIp(q.from, 'from', family) : undefined;
  const w = new MessageWriter(type, flags);
  w.u8(familyByte(family))
    .u8(dst.length * 8)
    .u8(src ? src.length * 8 : 0)
    .u8(0)
    .u8(0)
    .u8(0)
    .u8(0)
    .u8(0)
    // IPv4 reports the table that answered only with RTM_F_LOOKUP_TABLE; IPv6 always does and, with strict
    // checking, refuses any flag but RTM_F_FIB_MATCH.
    .u32((family === 4 ? RTM_F_LOOKUP_TABLE : 0) | (q.fibMatch ? RTM_F_FIB_MATCH : 0));
  w.attr(RTA_DST, dst);
  if (src) w.attr(RTA_SRC, src);
  if (q.mark !== undefined) w.attrU32(RTA_MARK, q.mark);
  if (q.iif !== undefined) w.attrU32(RTA_IIF, q.iif);
  if (q.oif !== undefined) w.attrU32(RTA_OIF, q.oif);
  return w;
}

/** Encodes a dump request for routes of one family (or all), with the table as a strict-check filter. */
export function encodeRouteDump(type: number, flags: number, family: IpFamily | undefined, table?: number): MessageWriter {
  const w = new MessageWriter(type, flags);
  w.u8(family === undefined ? 0 : familyByte(family))
    .u8(0)
    .u8(0)
    .u8(0)
    .u8(table !== undefined && table < 256 ? table : 0)
    .u8(0)
    .u8(0)
    .u8(0)
    .u32(0);
  if (table !== undefined) w.attrU32(RTA_TABLE, table);
  return w;
}
