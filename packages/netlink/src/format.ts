/** Text as iproute2 prints it (ip route, ip rule, ip monitor), so output can be compared by eye and by script. */
import type { Address } from './codec/address.js';
import {
  familyNames,
  protocolNames,
  RT_TABLE_MAIN,
  RTNH_F_DEAD,
  RTNH_F_LINKDOWN,
  RTNH_F_ONLINK,
  scopeNames,
  tableNames,
} from './codec/constants.js';
import { formatPrefix } from './codec/ip.js';
import type { Link } from './codec/link.js';
import type { Route } from './codec/route.js';
import type { Rule } from './codec/rule.js';

export type DevName = (index: number) => string;

const hex = (n: number) => `0x${n.toString(16)}`;
const tableName = (id: number): string => tableNames[id] ?? String(id);

function nexthopFlags(flags: number): string {
  let out = '';
  if (flags & RTNH_F_DEAD) out += ' dead';
  if (flags & RTNH_F_ONLINK) out += ' onlink';
  if (flags & RTNH_F_LINKDOWN) out += ' linkdown';
  return out;
}

/** One route as `ip route show` prints it; `showTable` adds `table X` for tables other than main (`table all`). */
export function formatRoute(r: Route, dev: DevName, showTable: boolean): string {
  const parts: string[] = [];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(formatPrefix(r.dst, r.dstLength, r.family));
  if (r.src !== undefined && r.srcLength > 0) parts.push(`from ${formatPrefix(r.src, r.srcLength, r.family)}`);
  if (r.tos) parts.push(`tos ${hex(r.tos)}`);
  if (r.gateway) parts.push(`via ${r.gateway}`);
  if (r.oif !== undefined) parts.push(`dev ${dev(r.oif)}`);
  if (showTable && r.table !== RT_TABLE_MAIN) parts.push(`table ${tableName(r.table)}`);
  if (r.protocol !== 3 && r.protocol !== 0) parts.push(`proto ${protocolNames[r.protocol] ?? r.protocol}`);
  if (r.scope !== 0 && r.family === 4) parts.push(`scope ${scopeNames[r.scope] ?? r.scope}`);
  if (r.prefsrc) parts.push(`src ${r.prefsrc}`);
  if (r.family === 6 || r.metric !== 0) parts.push(`metric ${r.metric}`);
  let line = parts.join(' ') + nexthopFlags(r.flags);
  if (r.pref) line += ` pref ${r.pref}`;
  for (const nh of r.nexthops ?? [])
    line += `\n\tnexthop${nh.gateway ? ` via ${nh.gateway}` : ''} dev ${dev(nh.oif)} weight ${nh.weight}${nexthopFlags(nh.flags)}`;
  return line;
}

/** One rule as `ip rule show` prints it. */
export function formatRule(r: Rule): string {
  const p: string[] = [
    `${r.priority}:\t${r.invert ? 'not ' : ''}from ${r.src !== undefined && r.srcLength > 0 ? formatPrefix(r.src, r.srcLength, r.family) : 'all'}`,
  ];
  if (r.dst !== undefined && r.dstLength > 0) p.push(`to ${formatPrefix(r.dst, r.dstLength, r.family)}`);
  if (r.tos) p.push(`tos ${hex(r.tos)}`);
  if (r.fwmark !== undefined || r.fwmask !== undefined)
    p.push(`fwmark ${hex(r.fwmark ?? 0)}${r.fwmask !== undefined && r.fwmask !== 0xffffffff ? `/${hex(r.fwmask)}` : ''}`);
  if (r.iif !== undefined) p.push(`iif ${r.iif}${r.flags & 0x8 ? ' [detached]' : ''}`);
  if (r.oif !== undefined) p.push(`oif ${r.oif}${r.flags & 0x10 ? ' [detached]' : ''}`);
  if (r.action === 'lookup') {
    p.push(`lookup ${tableName(r.table)}`);
    if (r.suppressPrefixLength !== undefined) p.push(`suppress_prefixlength ${r.suppressPrefixLength}`);
  } else if (r.action === 'goto') p.push(`goto ${r.goto ?? 'none'}`);
  else p.push(r.action);
  if (r.protocol !== 0 && r.protocol !== 2) p.push(`proto ${protocolNames[r.protocol] ?? r.protocol}`);
  return p.join(' ');
}

/**
 * A JSON.stringify replacer that writes a `family` as iproute2 spells it (`inet`, `inet6`): the JSON meshwan's
 * commands print and the files they write keep the words they have always had.
 */
export function familyWords(key: string, value: unknown): unknown {
  return key === 'family' && (value === 4 || value === 6) ? familyNames[value] : value;
}

/** `3: va: up carrier mtu 1500 state UP link/ether aa:bb:...` (a short form of `ip link`). */
export function formatLink(l: Link): string {
  return `${l.index}: ${l.name}: ${l.adminUp ? 'up' : 'down'} ${l.carrier ? 'carrier' : 'no-carrier'} mtu ${l.mtu} state ${l.operstate.toUpperCase()}${l.address ? ` link ${l.address}` : ''}`;
}

/** `3: va    inet6 2001:db8::1/64 scope global nodad` (as `ip -o addr`). */
export function formatAddress(a: Address, dev: DevName): string {
  const flags = a.flagNames.filter((f) => f !== 'permanent');
  const life =
    a.validLifetimeSeconds === 0xffffffff ? '' : ` valid_lft ${a.validLifetimeSeconds}sec preferred_lft ${a.preferredLifetimeSeconds}sec`;
  return `${a.index}: ${dev(a.index)}    ${familyNames[a.family]} ${a.address}${a.peer ? ` peer ${a.peer}` : ''}/${a.prefixLength} scope ${a.scope}${flags.length ? ` ${flags.join(' ')}` : ''}${life}`;
}
