/** RTM_NEWRULE/RTM_DELRULE bodies: struct fib_rule_hdr (12 bytes) + FRA_* attributes (linux/fib_rules.h). */

import type { IpFamily } from '@meshwan/os';
import { DecodeError, RequestError } from '../errors.js';
import { type AttributeReader, attributeTable, readAttributes } from './attributes.js';
import { u32 } from './bytes.js';
import {
  AF_INET,
  AF_INET6,
  FIB_RULE_INVERT,
  FRA_DST,
  FRA_FWMARK,
  FRA_FWMASK,
  FRA_GOTO,
  FRA_IIFNAME,
  FRA_OIFNAME,
  FRA_PRIORITY,
  FRA_PROTOCOL,
  FRA_SRC,
  FRA_SUPPRESS_PREFIXLEN,
  FRA_TABLE,
  RT_TABLE_MAIN,
  type RuleAction,
  ruleActions,
} from './constants.js';
import { parsePrefix } from './ip.js';
import { MessageWriter, NLMSG_HDRLEN, type RawAttribute, readU32Attr } from './message.js';
import { protocolNumber } from './route.js';

export interface Rule {
  family: IpFamily;
  /** FRA_PRIORITY; 0 when absent (the `from all lookup local` rule) */
  priority: number;
  /** FR_ACT_*: 'lookup' (FR_ACT_TO_TBL), 'goto', 'nop', 'blackhole', 'unreachable', 'prohibit' */
  action: RuleAction;
  /** FRA_TABLE (ids above 255 kept); 0 for non-lookup actions */
  table: number;
  /** FRA_GOTO target priority */
  goto?: number;
  src?: string;
  srcLength: number;
  dst?: string;
  dstLength: number;
  /** FRA_FWMARK / FRA_FWMASK; mask is 0xffffffff when a mark was given without one */
  fwmark?: number;
  fwmask?: number;
  /** FRA_IIFNAME / FRA_OIFNAME */
  iif?: string;
  oif?: string;
  /** FRA_SUPPRESS_PREFIXLEN; absent when unset (-1) */
  suppressPrefixLength?: number;
  suppressIfgroup?: number;
  /** FIB_RULE_INVERT: the rule matches when its selectors do not (`not`) */
  invert: boolean;
  tos: number;
  protocol: number;
  /** fib_rule_hdr.flags (FIB_RULE_*) */
  flags: number;
  unknown: RawAttribute[];
}

/** `unset` (-1 as u32) leaves a suppressor out. */
const suppressor =
  (field: 'suppressPrefixLength' | 'suppressIfgroup', name: string): AttributeReader<Rule> =>
  (r, buf, s, e) => {
    const v = readU32Attr(buf, name, s, e);
    if (v !== 0xffffffff) r[field] = v;
  };

const ruleAttributes = attributeTable<Rule>({
  u32: { FRA_PRIORITY: 'priority', FRA_TABLE: 'table', FRA_GOTO: 'goto', FRA_FWMARK: 'fwmark', FRA_FWMASK: 'fwmask' },
  ip: { FRA_SRC: 'src', FRA_DST: 'dst' },
  string: { FRA_IIFNAME: 'iif', FRA_OIFNAME: 'oif' },
  read: {
    FRA_SUPPRESS_PREFIXLEN: suppressor('suppressPrefixLength', 'FRA_SUPPRESS_PREFIXLEN'),
    FRA_SUPPRESS_IFGROUP: suppressor('suppressIfgroup', 'FRA_SUPPRESS_IFGROUP'),
    FRA_PROTOCOL: (r, buf, s, e) => {
      if (e - s !== 1) throw new DecodeError(s, 'FRA_PROTOCOL: expected 1 byte');
      r.protocol = buf[s] ?? 0;
    },
  },
});

export function decodeRule(buf: Uint8Array, offset: number, end: number): Rule {
  const body = offset + NLMSG_HDRLEN;
  if (end - body < 12) throw new DecodeError(body, `fib_rule_hdr needs 12 bytes, have ${end - body}`);
  const af = buf[body];
  if (af !== AF_INET && af !== AF_INET6) throw new DecodeError(body, `fib_rule_hdr: unknown family ${af}`);
  const family: IpFamily = af === AF_INET ? 4 : 6;
  const alen = af === AF_INET ? 4 : 16;
  const flags = u32(buf, body + 8);
  const r: Rule = {
    family,
    priority: 0,
    action: ruleActions[buf[body + 7] ?? 0] ?? 'unspec',
    table: buf[body + 4] ?? 0,
    srcLength: buf[body + 2] ?? 0,
    dstLength: buf[body + 1] ?? 0,
    invert: (flags & FIB_RULE_INVERT) !== 0,
    tos: buf[body + 3] ?? 0,
    protocol: 0,
    flags,
    unknown: [],
  };
  readAttributes(buf, body + 12, end, ruleAttributes, r, alen);
  return r;
}

/** What to add or delete. On add, unset action means `lookup` and unset table means main, as in iproute2. */
export interface RuleSpec {
  family: IpFamily;
  priority?: number;
  action?: RuleAction;
  table?: number;
  /** target priority of a `goto` rule */
  goto?: number;
  from?: string;
  to?: string;
  fwmark?: number;
  /** defaults to 0xffffffff in the kernel when fwmark is given without it */
  fwmask?: number;
  iif?: string;
  oif?: string;
  suppressPrefixLength?: number;
  invert?: boolean;
  tos?: number;
  protocol?: number | string;
}

export function encodeRule(type: number, flags: number, spec: RuleSpec, isDelete: boolean): MessageWriter {
  const family = spec.family;
  if (family !== 4 && family !== 6) throw new RequestError('family', String(family), '4 or 6');
  const src = spec.from !== undefined ? parsePrefix(spec.from, 'from', family) : undefined;
  const dst = spec.to !== undefined ? parsePrefix(spec.to, 'to', family) : undefined;
  let action: RuleAction = spec.action ?? (spec.goto !== undefined ? 'goto' : isDelete && spec.table === undefined ? 'unspec' : 'lookup');
  if (isDelete && spec.action === undefined && spec.table !== undefined) action = 'lookup';
  const actionNo = ruleActions.indexOf(action);
  if (actionNo < 0) throw new RequestError('action', String(action), ruleActions.join(', '));
  const table = spec.table ?? (action === 'lookup' && !isDelete ? RT_TABLE_MAIN : 0);
  const w = new MessageWriter(type, flags);
  w.u8(family === 4 ? AF_INET : AF_INET6)
    .u8(dst?.length ?? 0)
    .u8(src?.length ?? 0)
    .u8(spec.tos ?? 0)
    .u8(table < 256 ? table : 0)
    .u8(0)
    .u8(0)
    .u8(actionNo)
    .u32(spec.invert ? FIB_RULE_INVERT : 0);
  if (table !== 0) w.attrU32(FRA_TABLE, table);
  if (spec.priority !== undefined) w.attrU32(FRA_PRIORITY, spec.priority);
  if (src && src.length > 0) w.attr(FRA_SRC, src.bytes);
  if (dst && dst.length > 0) w.attr(FRA_DST, dst.bytes);
  if (spec.fwmark !== undefined) w.attrU32(FRA_FWMARK, spec.fwmark);
  if (spec.fwmask !== undefined) w.attrU32(FRA_FWMASK, spec.fwmask);
  if (spec.iif !== undefined) w.attrString(FRA_IIFNAME, spec.iif);
  if (spec.oif !== undefined) w.attrString(FRA_OIFNAME, spec.oif);
  if (spec.goto !== undefined) w.attrU32(FRA_GOTO, spec.goto);
  if (spec.suppressPrefixLength !== undefined) w.attrU32(FRA_SUPPRESS_PREFIXLEN, spec.suppressPrefixLength);
  if (spec.protocol !== undefined) w.attrU8(FRA_PROTOCOL, protocolNumber(spec.protocol, 0));
  return w;
}
