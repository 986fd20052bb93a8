/**
 * Firewall rules as typed data. One Rule is one iptables rule (`-A CHAIN matches -j TARGET`) or one nft rule.
 * The words are iptables' (table, chain, target, --ctstate, --dst-type) so a rule reads like the line it becomes.
 */

import type { IpFamily } from '@meshwan/os';

export type Table = 'raw' | 'nat' | 'mangle' | 'filter';
/** The kernel's netfilter hooks, by their iptables chain names (NF_INET_PRE_ROUTING … NF_INET_POST_ROUTING). */
export type BuiltinChain = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
export const builtinChains: readonly BuiltinChain[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** The built-in chains each iptables table has (net/ipv4/netfilter/iptable_*.c valid_hooks). */
export const tableChains: Readonly<Record<Table, readonly BuiltinChain[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** A value, or `{ not: value }` for the inverted match (iptables `!`, nft `!=`). */
export type Negatable<T> = T | { readonly not: T };

/** A port or an inclusive range [first, last]. */
export type PortSpec = number | readonly [number, number];
/** A uid/gid or an inclusive range [first, last]. */
export type IdSpec = number | readonly [number, number];

export type Protocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6';
export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';
/** Route types as in iptables' addrtype match (RTN_* in linux/rtnetlink.h). */
export type AddrType = 'UNSPEC' | 'UNICAST' | 'LOCAL' | 'BROADCAST' | 'ANYCAST' | 'MULTICAST' | 'BLACKHOLE' | 'UNREACHABLE' | 'PROHIBIT';

export interface OwnerMatch {
  /** Socket owner uid (xt_owner --uid-owner; nft meta skuid). */
  readonly uid?: IdSpec;
  /** Socket owner gid (xt_owner --gid-owner; nft meta skgid). */
  readonly gid?: IdSpec;
  /**
   * Also match when `gid` is one of the process's supplementary groups (xt_owner --suppl-groups, Linux >= 5.1).
   * nft's `meta skgid` only sees the socket's primary (fs) gid, so NftBackend rejects this with a RulesetError.
   */
  readonly supplGroups?: boolean;
}

export interface MarkSpec {
  readonly value: number;
  /** Defaults to 0xffffffff. */
  readonly mask?: number;
}

export interface Match {
  readonly protocol?: Protocol;
  /** Address or CIDR of the rule's family: `192.0.2.0/24`, `2001:db8::1`. */
  readonly source?: Negatable<string>;
  readonly destination?: Negatable<string>;
  /** Needs protocol tcp or udp. */
  readonly sourcePort?: PortSpec;
  readonly destinationPort?: PortSpec;
  /** Incoming interface (PREROUTING, INPUT, FORWARD); `+` at the end is iptables' wildcard. */
  readonly inInterface?: Negatable<string>;
  /** Outgoing interface (FORWARD, OUTPUT, POSTROUTING). */
  readonly outInterface?: Negatable<string>;
  /** Only in OUTPUT and POSTROUTING, where packets still carry their socket. */
  readonly owner?: OwnerMatch;
  /** Packet mark (skb->mark): `(mark & mask) == value`. */
  readonly mark?: Negatable<MarkSpec>;
  /** Conntrack state, any of (xt_conntrack --ctstate; nft ct state). */
  readonly ctState?: readonly CtState[];
  readonly addrType?: { readonly source?: Negatable<AddrType>; readonly destination?: Negatable<AddrType> };
}

export type Target =
  | { readonly type: 'ACCEPT' }
  | { readonly type: 'DROP' }
  | { readonly type: 'REJECT' }
  | { readonly type: 'RETURN' }
  /** Jump to one of our own chains (`meshwan_*`, lowercase) of the same family and table. */
  | { readonly type: 'jump'; readonly chain: string }
  | { readonly type: 'DNAT'; readonly address: string; readonly port?: number }
  /** DNAT to the primary address of the incoming interface (127.0.0.1 / ::1 for locally generated packets). */
  | { readonly type: 'REDIRECT'; readonly port?: number }
  /** mark = (mark & ~mask) | value. */
  | { readonly type: 'MARK'; readonly set: number; readonly mask?: number }
  | { readonly type: 'CONNMARK'; readonly op: 'set'; readonly value: number; readonly mask?: number }
  /** ctmark = packet mark (CONNMARK --save-mark) or packet mark = ctmark (--restore-mark); mask defaults to all bits. */
  | { readonly type: 'CONNMARK'; readonly op: 'save' | 'restore'; readonly mask?: number }
  /**
   * raw table only: put the connection in conntrack zone `zone` for its original direction (xt_CT --zone-orig;
   * nft `ct original zone set`). Replies are still found in the default zone, so only the lookups of new
   * packets are kept apart: two flows with the same 5-tuple in different zones never share an entry.
   */
  | { readonly type: 'CT'; readonly zoneOrig: number };

export interface Rule {
  readonly family: IpFamily;
  readonly table: Table;
  /**
   * A built-in chain (`OUTPUT`): the rule goes into our chain hooked there (iptables `meshwan_OUTPUT`, nft base
   * chain `nat_output`), or one of our own chains, named `meshwan_` + lowercase letters, digits and `_`.
   */
  readonly chain: BuiltinChain | string;
  readonly match?: Match;
  readonly target: Target;
  /** Free text kept next to the rule (letters, digits, space and `-_.:,/`, at most 100 characters). */
  readonly comment?: string;
}

/** Everything meshwan wants in the firewall. Applying one replaces the previous one entirely. */
export interface Ruleset {
  readonly rules: readonly Rule[];
}
