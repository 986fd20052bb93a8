/**
 * rtnetlink numbers as data. Sources: linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h,
 * linux/fib_rules.h (uapi, Linux 6.x). TS names keep the C names in comments so a grep from the headers finds them.
 */
import type { IpFamily } from '@meshwan/os';
export const NETLINK_ROUTE = 0;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;

/** nlmsg_type control values (NLMSG_*) */
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

/** nlmsg_flags (NLM_F_*) */
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_ACK_TLVS = 0x200;
export const NLM_F_CAPPED = 0x100;
/** enum nlmsgerr_attrs */
export const NLMSGERR_ATTR_MSG = 1;

/** rtnetlink message types (RTM_*) */
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWRULE = 32;
export const RTM_DELRULE = 33;
export const RTM_GETRULE = 34;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** multicast groups (enum rtnetlink_groups, RTNLGRP_*); bind() takes the bitmask 1 << (group - 1) */
export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV4_ROUTE = 7;
export const RTNLGRP_IPV4_RULE = 8;
export const RTNLGRP_IPV6_IFADDR = 9;
export const RTNLGRP_IPV6_ROUTE = 11;
export const RTNLGRP_IPV6_RULE = 19;

/** IFLA_* (if_link.h) */
export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_OPERSTATE = 16;
export const IFLA_CARRIER = 33;
/** ifinfomsg.ifi_flags (IFF_*) */
export const IFF_UP = 0x1;
export const IFF_LOWER_UP = 0x10000;
/** IF_OPER_* (RFC 2863 operational states) */
export const operStates = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;

/** IFA_* (if_addr.h) */
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_CACHEINFO = 6;
export const IFA_FLAGS = 8;
export const IFA_RT_PRIORITY = 9;
/** IFA_F_* address flags; index = bit */
export const addressFlagNames: readonly [number, string][] = [
  [0x01, 'secondary'], // IFA_F_SECONDARY (IPv4), IFA_F_TEMPORARY (IPv6) share the bit
  [0x02, 'nodad'],
  [0x04, 'optimistic'],
  [0x08, 'dadfailed'],
  [0x10, 'homeaddress'],
  [0x20, 'deprecated'],
  [0x40, 'tentative'],
  [0x80, 'permanent'],
  [0x100, 'mngtmpaddr'],
  [0x200, 'noprefixroute'],
  [0x400, 'autojoin'],
  [0x800, 'stable-privacy'],
];
export const IFA_F_NODAD = 0x02;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_TENTATIVE = 0x40;

/** RTA_* (rtnetlink.h enum rtattr_type_t) */
export const RTA_DST = 1;
export const RTA_SRC = 2;
export const RTA_IIF = 3;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_MULTIPATH = 9;
export const RTA_CACHEINFO = 12;
export const RTA_TABLE = 15;
export const RTA_MARK = 16;
export const RTA_PREF = 20;
export const RTA_EXPIRES = 23;
/** rtm_flags */
export const RTM_F_CLONED = 0x200;
export const RTM_F_LOOKUP_TABLE = 0x1000;
export const RTM_F_FIB_MATCH = 0x2000;

/** RTN_BLACKHOLE (6) … RTN_XRESOLVE (11): numbered alike as route types and as rule actions (see ruleActions). */
const rtnFrom6 = ['blackhole', 'unreachable', 'prohibit', 'throw', 'nat', 'xresolve'] as const;
/** rtm_type (RTN_*) by number */
export const routeTypes = ['unspec', 'unicast', 'local', 'broadcast', 'anycast', 'multicast', ...rtnFrom6] as const;
export type RouteType = (typeof routeTypes)[number];

/** The address family as iproute2 spells it (`ip -o addr`, `-f inet6`): the CLI's and messages' words only. */
export const familyNames: Readonly<Record<IpFamily, 'inet' | 'inet6'>> = { 4: 'inet', 6: 'inet6' };
/** The family iproute2's word names (`inet` → 4, `inet6` → 6); undefined for any other value. */
export function familyNamed(word: unknown): IpFamily | undefined {
  return word === familyNames[4] ? 4 : word === familyNames[6] ? 6 : undefined;
}
/** rtm_scope as iproute2 names them */
export const scopeNames: Readonly<Record<number, string>> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };
/** rtm_protocol (RTPROT_*) as iproute2 names them (/usr/share/iproute2/rt_protos) */
export const protocolNames: Readonly<Record<number, string>> = {
  0: 'unspec',
  1: 'redirect',
  2: 'kernel',
  3: 'boot',
  4: 'static',
  8: 'gated',
  9: 'ra',
  10: 'mrt',
  11: 'zebra',
  12: 'bird',
  13: 'dnrouted',
  14: 'xorp',
  15: 'ntk',
  16: 'dhcp',
  42: 'babel',
  186: 'bgp',
  187: 'isis',
  188: 'ospf',
  189: 'rip',
  192: 'eigrp',
};
/** RT_TABLE_* */
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;
export const tableNames: Readonly<Record<number, string>> = { 253: 'default', 254: 'main', 255: 'local' };
/** RTA_PREF values (ICMPV6_ROUTER_PREF_*, RFC 4191) */
export const prefNames: Readonly<Record<number, 'medium' | 'high' | 'low'>> = { 0: 'medium', 1: 'high', 3: 'low' };
/** rtnh_flags (RTNH_F_*) */
export const RTNH_F_DEAD = 1;
export const RTNH_F_ONLINK = 4;
export const RTNH_F_LINKDOWN = 16;

/** FRA_* (fib_rules.h) */
export const FRA_DST = 1;
export const FRA_SRC = 2;
export const FRA_IIFNAME = 3;
export const FRA_GOTO = 4;
export const FRA_PRIORITY = 6;
export const FRA_FWMARK = 10;
export const FRA_SUPPRESS_IFGROUP = 13;
export const FRA_SUPPRESS_PREFIXLEN = 14;
export const FRA_TABLE = 15;
export const FRA_FWMASK = 16;
export const FRA_OIFNAME = 17;
export const FRA_PROTOCOL = 21;
/** fib_rule_hdr.flags (FIB_RULE_*) */
export const FIB_RULE_INVERT = 0x2;
export const FIB_RULE_IIF_DETACHED = 0x8;
export const FIB_RULE_OIF_DETACHED = 0x10;
/**
 * fib_rule_hdr.action (FR_ACT_*) by number. Past prohibit (8) the numbers are RTN_* route types, which is what
 * netifd sends (system_rtn_aton): its `iif DEV failed_policy` rule (pref 4200000000+ifindex) carries
 * RTN_FAILED_POLICY = 12, and the kernel stores it as given (`ip rule` prints `12`).
 */
export const ruleActions = ['unspec', 'lookup', 'goto', 'nop', 'res3', 'res4', ...rtnFrom6, 'failed_policy'] as const;
export type RuleAction = (typeof ruleActions)[number];
