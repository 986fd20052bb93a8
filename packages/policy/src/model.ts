/**
 * The kernel objects policy reasons about, in policy's own terms: a routing rule (RTM_NEWRULE, struct fib_rule_hdr
 * plus FRA_* attributes, linux/fib_rules.h) and a route (RTM_NEWROUTE, struct rtmsg plus RTA_*, linux/rtnetlink.h).
 * Rules are @meshwan/netlink's Rule as dumped; routes keep device names (a recorded route outlives an ifindex).
 * Both the desired state (derived from uci) and the actual state (dumped through @meshwan/netlink) use these types,
 * so the diff is a plain comparison of keys.
 */
import type { Rule } from '@meshwan/netlink';
import type { IpFamily } from '@meshwan/os';
import { formatPrefix, type Prefix } from './ip.js';

/**
 * RTPROT_UNSPEC: netifd sends its rules without FRA_PROTOCOL (system_iprule), so the kernel stores 0 (`ip -d rule`
 * prints `proto unspec`). meshwan's copies of netifd's rules carry it too: the kernel compares the protocol
 * (rule_exists), so any other value would make every rule exist twice beside netifd.
 */
export const RTPROT_UNSPEC = 0;
/** RTPROT_STATIC (linux/rtnetlink.h): what netifd puts on every route it adds (and older meshwan on its rules). */
export const RTPROT_STATIC = 4;
/** RTPROT_KERNEL: routes the kernel adds for addresses and link-local. */
export const RTPROT_KERNEL = 2;
/**
 * The protocol meshwan puts on the rules only it adds (the gate). Unassigned in /etc/iproute2/rt_protos; it makes
 * ownership visible (`ip rule` prints `proto 77`) and means a deletion can never hit a rule someone else added.
 */
export const RTPROT_MESHWAN = 77;

export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;
export const RT_TABLE_DEFAULT = 253;

/**
 * A desired rule in @meshwan/netlink's shape (what a dump decodes), so that desired and dumped rules compare with
 * one key and are sent as they are: the fields a caller leaves out are what the kernel reports for them.
 */
export function newRule(fields: Pick<Rule, 'family' | 'priority' | 'action'> & Partial<Rule>): Rule {
  return { table: 0, srcLength: 0, dstLength: 0, invert: false, tos: 0, protocol: RTPROT_UNSPEC, flags: 0, unknown: [], ...fields };
}

/** rtm_type values (RTN_*) a route may carry. */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';

export interface Route {
  readonly family: IpFamily;
  readonly table: number;
  /** RTA_DST with rtm_dst_len; host bits cleared. */
  readonly dst: Prefix;
  /** RTA_SRC (IPv6 source-specific routes). */
  readonly src?: Prefix;
  readonly type: RouteType;
  /** RTA_OIF as a name. */
  readonly dev?: string;
  /** RTA_GATEWAY as canonical text. */
  readonly gateway?: string;
  /** RTA_PRIORITY; IPv6 routes added with 0 get 1024 (IP6_RT_PRIO_USER), so desired routes say 1024. */
  readonly metric: number;
  readonly protocol: number;
  /** RTA_PREFSRC as canonical text. */
  readonly prefsrc?: string;
  /** RTAX_MTU. */
  readonly mtu?: number;
  /**
   * Seconds left before the kernel deletes the route (IPv6 RA routes), as dumped; sent again (RTA_EXPIRES) when
   * the route is moved, so a moved RA route still expires. Not part of routeKey: it counts down.
   */
  readonly expiresSeconds?: number;
  /**
   * RTNH_F_ONLINK (rtm_flags): the gateway is taken as on the device whatever the table holds. The one nexthop flag
   * a route is added with (dead, linkdown and offload are the kernel's state, refused on add); a move keeps it,
   * or the kernel refuses a gateway that is not on a prefix of the target table.
   */
  readonly onlink?: boolean;
  /** RTA_PREF: an IPv6 RA route's router preference (RFC 4191); kept when the route moves. */
  readonly pref?: 'medium' | 'high' | 'low';
  /** rtm_scope as dumped (IPv4: link for a prefix route, host, universe); unset: netlink's default for the add. */
  readonly scope?: number;
  /**
   * RTA_MULTIPATH: set (and `dev`/`gateway` unset) for a multipath route, such as @meshwan/uplinks' weighted
   * default. Policy never adds, moves or deletes one; it only shows and walks it.
   */
  readonly nexthops?: readonly Nexthop[];
}

interface Nexthop {
  readonly dev?: string;
  readonly gateway?: string;
  readonly weight: number;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** The rule as `ip rule` prints it (with the pref): used in logs, plans and check output. */
export function formatRule(r: Rule): string {
  const parts: string[] = [];
  if (r.invert) parts.push('not');
  parts.push('from', r.src !== undefined && r.srcLength > 0 ? rulePrefix(r.src, r.srcLength, r.family) : 'all');
  if (r.dst !== undefined && r.dstLength > 0) parts.push('to', rulePrefix(r.dst, r.dstLength, r.family));
  if (r.tos !== 0) parts.push('tos', hex(r.tos));
  if (r.fwmark !== undefined) parts.push('fwmark', r.fwmask !== undefined ? `${hex(r.fwmark)}/${hex(r.fwmask)}` : hex(r.fwmark));
  if (r.iif !== undefined) parts.push('iif', r.iif);
  if (r.oif !== undefined) parts.push('oif', r.oif);
  if (r.action === 'lookup') parts.push('lookup', tableName(r.table));
  else if (r.action === 'goto') parts.push('goto', String(r.goto ?? 0));
  else parts.push(r.action);
  if (r.suppressPrefixLength !== undefined) parts.push('suppress_prefixlength', String(r.suppressPrefixLength));
  if (r.protocol !== 0) parts.push('proto', protocolName(r.protocol));
  return `${r.priority}: ${parts.join(' ')}`;
}

/** iproute2 prints a host prefix in a rule without its length. */
function rulePrefix(address: string, length: number, family: IpFamily): string {
  return length === (family === 4 ? 32 : 128) ? address : `${address}/${length}`;
}

export function tableName(table: number): string {
  if (table === RT_TABLE_MAIN) return 'main';
  if (table === RT_TABLE_LOCAL) return 'local';
  if (table === RT_TABLE_DEFAULT) return 'default';
  return String(table);
}

function protocolName(protocol: number): string {
  switch (protocol) {
    case RTPROT_KERNEL:
      return 'kernel';
    case 3:
      return 'boot';
    case RTPROT_STATIC:
      return 'static';
    case 9:
      return 'ra';
    case 16:
      return 'dhcp';
    case RTPROT_MESHWAN:
      return 'meshwan';
    default:
      return String(protocol);
  }
}

/** Route types that send packets somewhere (the others end the lookup with an error, or throw). */
export function isForwardingType(type: RouteType): boolean {
  return type === 'unicast' || type === 'local' || type === 'broadcast' || type === 'anycast' || type === 'multicast';
}

/** The route as `ip route` prints it, with its table. */
export function formatRoute(r: Route): string {
  const parts: string[] = [];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(r.dst.len === 0 ? 'default' : formatPrefix(r.dst));
  if (r.src) parts.push('from', formatPrefix(r.src));
  if (r.gateway !== undefined) parts.push('via', r.gateway);
  if (r.dev !== undefined && isForwardingType(r.type)) parts.push('dev', r.dev);
  parts.push('table', tableName(r.table), 'proto', protocolName(r.protocol), 'metric', String(r.metric));
  if (r.prefsrc !== undefined) parts.push('src', r.prefsrc);
  if (r.mtu !== undefined) parts.push('mtu', String(r.mtu));
  if (r.pref !== undefined && r.pref !== 'medium') parts.push('pref', r.pref);
  if (r.onlink) parts.push('onlink');
  // iproute2 prints the nexthops last.
  for (const h of r.nexthops ?? []) {
    parts.push('nexthop');
    if (h.gateway !== undefined) parts.push('via', h.gateway);
    if (h.dev !== undefined) parts.push('dev', h.dev);
    parts.push('weight', String(h.weight));
  }
  return parts.join(' ');
}

/**
 * Identity of a rule for the diff: every field the kernel compares in rule_exists() (net/core/fib_rules.c),
 * so "same key" means "the kernel considers it the same rule". Addresses are netlink's canonical text.
 */
export function ruleKey(r: Rule): string {
  return [
    r.family,
    r.priority,
    r.action,
    r.action === 'lookup' ? r.table : '',
    r.goto ?? '',
    r.invert ? 1 : 0,
    r.srcLength > 0 ? `${r.src}/${r.srcLength}` : '',
    r.dstLength > 0 ? `${r.dst}/${r.dstLength}` : '',
    r.iif ?? '',
    r.oif ?? '',
    r.tos,
    r.fwmark ?? '',
    r.fwmark !== undefined ? (r.fwmask ?? 0xffffffff) : '',
    r.suppressPrefixLength ?? '',
    r.protocol,
  ].join('|');
}

/**
 * Identity of a route for the diff: what the kernel uses to find a route (family, table, dst, src, metric) plus
 * where it points (type, dev, gateway), so a route that moved to another device counts as a different route.
 */
export function routeKey(r: Route): string {
  // The kernel hangs reject routes (unreachable, blackhole, prohibit, throw) on lo whatever was asked: no device.
  const dev = isForwardingType(r.type) ? (r.dev ?? '') : '';
  const hops = r.nexthops?.map((h) => `${h.gateway ?? ''}@${h.dev ?? ''}*${h.weight}`).join(',') ?? '';
  return [r.family, r.table, formatPrefix(r.dst), r.src ? formatPrefix(r.src) : '', r.metric, r.type, dev, r.gateway ?? '', hops].join('|');
}
