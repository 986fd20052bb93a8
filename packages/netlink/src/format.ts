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

// biome-ignore-start lint/style/useTemplate: QuickJS joins `a + b` about twice as fast as a template, which runs each part through ToString: these run for each of a dump's 100k routes
/**
 * One route as `ip route show` prints it; `showTable` adds `table X` for tables other than main (`table all`).
 * Built by appending to one string (no array of parts): `meshwan-netlink routes` renders 100k of these on QuickJS.
 */
export function formatRoute(r: Route, dev: DevName, showTable: boolean): string {
  let line = r.type === 'unicast' ? '' : r.type + ' ';
  // formatPrefix inlined for the one every route has
  line += r.dstLength === 0 ? 'default' : r.dstLength === (r.family === 4 ? 32 : 128) ? r.dst : r.dst + '/' + r.dstLength;
  if (r.src !== undefined && r.srcLength > 0) line += ' from ' + formatPrefix(r.src, r.srcLength, r.family);
  if (r.tos) line += ' tos ' + hex(r.tos);
  if (r.gateway) line += ' via ' + r.gateway;
  if (r.oif !== undefined) line += ' dev ' + dev(r.oif);
  if (showTable && r.table !== RT_TABLE_MAIN) line += ' table ' + tableName(r.table);
  if (r.protocol !== 3 && r.protocol !== 0) line += ' proto ' + (protocolNames[r.protocol] ?? r.protocol);
  if (r.scope !== 0 && r.family === 4) line += ' scope ' + (scopeNames[r.scope] ?? r.scope);
  if (r.prefsrc) line += ' src ' + r.prefsrc;
  if (r.family === 6 || r.metric !== 0) line += ' metric ' + r.metric;
  if (r.flags) line += nexthopFlags(r.flags);
  if (r.pref) line += ' pref ' + r.pref;
  if (r.nexthops)
    for (const nh of r.nexthops)
      line +=
        '\n\tnexthop' + (nh.gateway ? ' via ' + nh.gateway : '') + ' dev ' + dev(nh.oif) + ' weight ' + nh.weight + nexthopFlags(nh.flags);
  return line;
}

let lastName = '';
let lastQuoted = '""';
/** A device name as a JSON string (one kept: a dump names the same few devices over and over). */
function quoted(name: string): string {
  if (name !== lastName) {
    lastName = name;
    lastQuoted = JSON.stringify(name);
  }
  return lastQuoted;
}

const jsonHeads: Readonly<Record<number, string>> = {
  4: '  {\n    "family": "' + familyNames[4] + '",\n    "table": ',
  6: '  {\n    "family": "' + familyNames[6] + '",\n    "table": ',
};

/**
 * What formatRouteJson repeats from route to route, each part kept with what it was made from: a dump's routes
 * mostly share their type, lengths, protocol and nexthop, and comparing is cheaper on QuickJS than joining.
 */
const jsonParts = {
  type: '',
  typeText: '',
  lengths: -1,
  lengthsText: '',
  kind: -1,
  flags: -1,
  kindText: '',
  tail: undefined as Route | undefined,
  tailDev: '',
  tailText: '',
};

/** The optional fields and `dev`, from `,\n    "src"` to the closing brace. */
function jsonTail(r: Route, devName: string): string {
  let json = '';
  if (r.src !== undefined) json += ',\n    "src": "' + r.src + '"';
  if (r.iif !== undefined) json += ',\n    "iif": ' + r.iif;
  if (r.prefsrc !== undefined) json += ',\n    "prefsrc": "' + r.prefsrc + '"';
  if (r.gateway !== undefined) json += ',\n    "gateway": "' + r.gateway + '"';
  if (r.oif !== undefined) json += ',\n    "oif": ' + r.oif;
  if (r.nexthops) {
    json += r.nexthops.length ? ',\n    "nexthops": [' : ',\n    "nexthops": []';
    for (const [i, nh] of r.nexthops.entries()) {
      json +=
        (i ? ',' : '') + '\n      {\n        "oif": ' + nh.oif + ',\n        "weight": ' + nh.weight + ',\n        "flags": ' + nh.flags;
      if (nh.gateway !== undefined) json += ',\n        "gateway": "' + nh.gateway + '"';
      json += '\n      }';
    }
    if (r.nexthops.length) json += '\n    ]';
  }
  if (r.mark !== undefined) json += ',\n    "mark": ' + r.mark;
  if (r.expiresSeconds !== undefined) json += ',\n    "expiresSeconds": ' + r.expiresSeconds;
  if (r.pref !== undefined) json += ',\n    "pref": "' + r.pref + '"';
  if (r.oif !== undefined) json += ',\n    "dev": ' + quoted(devName);
  return json + '\n  }';
}

/** Whether the tail of `b` is the one made for `a` (a multipath route's is never kept). */
function sameTail(a: Route, b: Route): boolean {
  return (
    a.gateway === b.gateway &&
    a.oif === b.oif &&
    a.pref === b.pref &&
    a.expiresSeconds === b.expiresSeconds &&
    a.src === b.src &&
    a.prefsrc === b.prefsrc &&
    a.iif === b.iif &&
    a.mark === b.mark &&
    b.nexthops === undefined
  );
}

/**
 * One route as `meshwan-netlink routes --json` prints it: an element of what `JSON.stringify(routes, familyWords,
 * 2)` prints for the routes with `dev` (the name of `oif`) added and `unknown` left out, i.e. two spaces in, no
 * separator. The keys come in the order decodeRoute's objects have them: the fixed ones, then the optional ones in
 * the kernel's attribute order (rt6_fill_node, fib_dump_info), then `dev`. Written out rather than stringified:
 * QuickJS's JSON.stringify of an object took twice this.
 */
export function formatRouteJson(r: Route, dev: DevName): string {
  const p = jsonParts;
  if (r.type !== p.type) {
    p.type = r.type;
    p.typeText = ',\n    "type": "' + r.type + '",\n    "dst": "';
  }
  const lengths = r.dstLength | (r.srcLength << 8) | (r.tos << 16);
  if (lengths !== p.lengths) {
    p.lengths = lengths;
    p.lengthsText =
      '",\n    "dstLength": ' + r.dstLength + ',\n    "srcLength": ' + r.srcLength + ',\n    "tos": ' + r.tos + ',\n    "metric": ';
  }
  const kind = r.protocol | (r.scope << 8);
  if (kind !== p.kind || r.flags !== p.flags) {
    p.kind = kind;
    p.flags = r.flags;
    p.kindText = ',\n    "protocol": ' + r.protocol + ',\n    "scope": ' + r.scope + ',\n    "flags": ' + r.flags;
  }
  const devName = r.oif === undefined ? '' : dev(r.oif);
  if (!(p.tail && sameTail(p.tail, r) && devName === p.tailDev)) {
    p.tailText = jsonTail(r, devName);
    // a copy of what jsonTail read (the route itself is reused for the next one)
    p.tail = r.nexthops ? undefined : { ...r, unknown: [] };
    p.tailDev = devName;
  }
  return (jsonHeads[r.family] ?? '') + r.table + p.typeText + r.dst + p.lengthsText + r.metric + p.kindText + p.tailText;
}
// biome-ignore-end lint/style/useTemplate: the hot formatters end here

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
