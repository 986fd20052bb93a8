/**
 * The kernel's route lookup over cached state. Rule walk: net/core/fib_rules.c fib_rules_lookup() with
 * fib_rule_match() (iif/oif, fwmark/mask, then the family's from/to/tos; the result inverted by `not`), goto
 * jumps, nop, suppress_prefixlength applied only to a successful table lookup; unreachable/prohibit/blackhole
 * rules end the walk. Table: longest prefix first, then IPv4 fib_trie order (tos, metric) or IPv6 fib6 order
 * (source prefix, metric); a throw route, or no route, continues with the next rule.
 */

import type { IpFamily } from '@meshwan/os';
import { FIB_RULE_IIF_DETACHED, FIB_RULE_OIF_DETACHED, familyNames, RTNH_F_DEAD } from './codec/constants.js';
import type { Nexthop, Route } from './codec/route.js';
import type { Rule } from './codec/rule.js';
import { RequestError } from './errors.js';
import { addressWords, IPV6, maskWord, NOT_IP, parseAddressInto } from './prefix.js';
import { type Entry, FORWARD, type Level, PROHIBIT, type TableIndex, THROW, UNREACHABLE } from './table.js';

export interface LookupOptions {
  /** the packet's firewall mark (skb->mark, SO_MARK) */
  mark?: number;
  /** source address; IPv6 rules with `from` only match when it is given (RT6_LOOKUP_F_HAS_SADDR) */
  src?: string;
  /** input interface name; default `lo`: a locally generated packet (flowi_iif = LOOPBACK_IFINDEX) */
  iif?: string;
  /** output interface name (a socket bound to a device) */
  oif?: string;
  tos?: number;
}

export type Verdict = 'route' | 'unreachable' | 'prohibit' | 'blackhole';

export interface LookupResult {
  family: IpFamily;
  verdict: Verdict;
  /** the errno `ip route get` reports for a reject: ENETUNREACH (no route, unreachable rule), EHOSTUNREACH
   * (unreachable route), EACCES (prohibit), EINVAL (blackhole) */
  code?: 'ENETUNREACH' | 'EHOSTUNREACH' | 'EACCES' | 'EINVAL';
  /** the rule that decided; absent when no rule did */
  rule?: Rule;
  table?: number;
  /** the route that matched (for multipath, all nexthops: the kernel picks one by flow hash) */
  route?: Route;
  /** IPv4 with an output interface and no route: the kernel assumes the destination is on that link */
  onLink?: boolean;
  /**
   * IPv4 output with a source the kernel refuses before or after the rule walk (ip_route_output_key_hash_rcu):
   * 'not-local' (ENETUNREACH, no rule is walked: the source is no address of this host), 'invalid' (EINVAL: a
   * multicast or limited broadcast source, or a loopback source leaving through another device). The verdict
   * is 'unreachable'.
   */
  badSource?: 'not-local' | 'invalid';
}

/** One lookup of RouteCache.lookupOutput: `src` is the source the kernel picked for the second lookup. */
export interface OutputLookup {
  src?: string;
  result: LookupResult;
}

export interface LookupState {
  /** the family's rules in walk order, compiled (compileRules) against the family's tables */
  rules(family: IpFamily): readonly CompiledRule[];
  linkExists(name: string): boolean;
  linkName(index: number): string | undefined;
  /** whether an IPv4 address (one word) is configured on any link (inet_lookup_ifaddr_rcu) */
  hasLocalAddress4(word: number): boolean;
  /** the IPv4 local table (255), for addresses that are local through a route only (127.0.0.0/8 on lo) */
  localTable4(): TableIndex | undefined;
}

/**
 * The packet being looked up, as numbers: one object reused by every lookup, so a lookup allocates nothing but its
 * result (lookups are synchronous and never re-enter). Addresses are four int32 words each (prefix.ts).
 */
class Flow {
  v6 = false;
  d0 = 0;
  d1 = 0;
  d2 = 0;
  d3 = 0;
  /** a source address was given and is not the unspecified address */
  hasSrc = false;
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  mark = 0;
  iif = 'lo';
  oif: string | undefined = undefined;
  tos = 0;
  /** IPv6: the device whose routes are preferred (rt6_check_dev): oif on output, iif on input */
  dev: string | undefined = undefined;
  /** IPv6 input to a multicast, link-local or loopback destination (rt6_need_strict): only routes through `dev` */
  strict = false;
}

const flow = new Flow();
const scratch = new Int32Array(4);

/** CompiledRule.act */
const LOOKUP = 0;
const GOTO = 1;
const UNREACHABLE_RULE = 2;
const PROHIBIT_RULE = 3;
const BLACKHOLE_RULE = 4;
/** nop and actions this walk does not model: the walk continues */
const CONTINUE = 5;

/** CompiledRule.sel: selectors beyond fwmark that the rule has */
const SEL_IIF = 1;
const SEL_OIF = 2;
const SEL_DST = 4;
const SEL_SRC = 8;
const SEL_TOS = 16;

/**
 * A rule flattened for the walk: every field present in one fixed shape (decoded rules differ in which optional
 * fields they carry, which would make each property read in the hot loop megamorphic), prefixes as masked words
 * with their masks, the action as a number, the goto target and the table resolved. Recompiled when a rule
 * changes or a table appears (tables are never dropped from the cache).
 */
export interface CompiledRule {
  rule: Rule;
  sel: number;
  act: number;
  iif: string | undefined;
  oif: string | undefined;
  iifDetached: boolean;
  oifDetached: boolean;
  fwmark: number;
  fwmask: number;
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  sm0: number;
  sm1: number;
  sm2: number;
  sm3: number;
  d0: number;
  d1: number;
  d2: number;
  d3: number;
  dm0: number;
  dm1: number;
  dm2: number;
  dm3: number;
  tos: number;
  invert: boolean;
  table: TableIndex | undefined;
  tableId: number;
  /** -1 when unset */
  suppressPrefixLength: number;
  /** index of the first rule at the goto priority, -1 when there is none (an unresolved goto is skipped) */
  target: number;
}

const actions: Record<string, number> = {
  lookup: LOOKUP,
  goto: GOTO,
  unreachable: UNREACHABLE_RULE,
  prohibit: PROHIBIT_RULE,
  blackhole: BLACKHOLE_RULE,
};

export function compileRules(rules: readonly Rule[], tables: ReadonlyMap<number, TableIndex>): CompiledRule[] {
  return rules.map((rule) => {
    const src = (rule.src !== undefined && addressWords(rule.src)) || new Int32Array(4);
    const dst = (rule.dst !== undefined && addressWords(rule.dst)) || new Int32Array(4);
    const sm = [0, 1, 2, 3].map((k) => maskWord(rule.srcLength, k));
    const dm = [0, 1, 2, 3].map((k) => maskWord(rule.dstLength, k));
    const w = (words: Int32Array, masks: number[], k: number) => (words[k] as number) & (masks[k] as number);
    const m = (masks: number[], k: number) => masks[k] as number;
    return {
      rule,
      sel:
        (rule.iif !== undefined ? SEL_IIF : 0) |
        (rule.oif !== undefined ? SEL_OIF : 0) |
        (rule.dstLength > 0 ? SEL_DST : 0) |
        (rule.srcLength > 0 ? SEL_SRC : 0) |
        (rule.tos ? SEL_TOS : 0),
      act: actions[rule.action] ?? CONTINUE,
      iif: rule.iif,
      oif: rule.oif,
      iifDetached: (rule.flags & FIB_RULE_IIF_DETACHED) !== 0,
      oifDetached: (rule.flags & FIB_RULE_OIF_DETACHED) !== 0,
      fwmark: rule.fwmark ?? 0,
      fwmask: rule.fwmask ?? 0,
      s0: w(src, sm, 0),
      s1: w(src, sm, 1),
      s2: w(src, sm, 2),
      s3: w(src, sm, 3),
      sm0: m(sm, 0),
      sm1: m(sm, 1),
      sm2: m(sm, 2),
      sm3: m(sm, 3),
      d0: w(dst, dm, 0),
      d1: w(dst, dm, 1),
      d2: w(dst, dm, 2),
      d3: w(dst, dm, 3),
      dm0: m(dm, 0),
      dm1: m(dm, 1),
      dm2: m(dm, 2),
      dm3: m(dm, 3),
      tos: rule.tos,
      invert: rule.invert,
      table: rule.action === 'lookup' ? tables.get(rule.table) : undefined,
      tableId: rule.table,
      suppressPrefixLength: rule.suppressPrefixLength ?? -1,
      target: rule.action === 'goto' ? rules.findIndex((r) => r.priority === rule.goto) : -1,
    };
  });
}

/** fib_rule_match() after the fwmark test: iif/oif, then the family's to/from/tos. */
function selectorsMatch(r: CompiledRule, f: Flow, state: LookupState): boolean {
  const sel = r.sel;
  if (sel & SEL_IIF && (r.iifDetached || r.iif !== f.iif || !state.linkExists(r.iif as string))) return false;
  if (sel & SEL_OIF && (r.oifDetached || r.oif !== f.oif || !state.linkExists(r.oif as string))) return false;
  if (sel & SEL_DST && ((f.d0 & r.dm0) !== r.d0 || (f.d1 & r.dm1) !== r.d1 || (f.d2 & r.dm2) !== r.d2 || (f.d3 & r.dm3) !== r.d3))
    return false;
  if (
    sel & SEL_SRC &&
    // IPv4 compares the flow's saddr (0.0.0.0 when unset); IPv6 cannot match a source it does not have
    ((f.v6 && !f.hasSrc) || (f.s0 & r.sm0) !== r.s0 || (f.s1 & r.sm1) !== r.s1 || (f.s2 & r.sm2) !== r.s2 || (f.s3 & r.sm3) !== r.s3)
  )
    return false;
  return !(sel & SEL_TOS) || r.tos === f.tos;
}

function usable(e: Entry, f: Flow, state: LookupState): boolean {
  if (!e.hasNexthops) return true; // reject and throw routes have no nexthop to check
  if (e.dead) return false;
  const any = f.oif === undefined || f.v6;
  const hops = e.nexthops;
  if (hops === undefined) return any || state.linkName(e.oif < 0 ? 0 : e.oif) === f.oif;
  for (let i = 0; i < hops.length; i++) {
    const nh = hops[i] as Nexthop;
    if (!(nh.flags & RTNH_F_DEAD) && (any || state.linkName(nh.oif) === f.oif)) return true;
  }
  return false;
}

/** Whether a multipath route has a nexthop through `dev`. */
function hopVia(e: Entry, dev: string, state: LookupState): boolean {
  const hops = e.nexthops ?? [];
  for (let i = 0; i < hops.length; i++) if (state.linkName((hops[i] as Nexthop).oif) === dev) return true;
  return false;
}

/** Longest prefix, then the kernel's order within the prefix; undefined when nothing matches. */
function lookupTable(table: TableIndex, f: Flow, state: LookupState): Entry | undefined {
  const levels = table.levels;
  for (let li = 0; li < levels.length; li++) {
    let fallback: Entry | undefined;
    for (let e = (levels[li] as Level).get(f.d0, f.d1, f.d2, f.d3); e !== undefined; e = e.next) {
      if (!f.v6 && e.tos && e.tos !== f.tos) continue;
      const src = e.src;
      if (
        src !== undefined &&
        (!f.hasSrc ||
          (f.s0 & (src[4] as number)) !== src[0] ||
          (f.s1 & (src[5] as number)) !== src[1] ||
          (f.s2 & (src[6] as number)) !== src[2] ||
          (f.s3 & (src[7] as number)) !== src[3])
      )
        continue;
      if (!usable(e, f, state)) continue;
      // IPv6 prefers, among routes of the lowest metric, one through the device (rt6_check_dev); in strict mode
      // (RT6_LOOKUP_F_IFACE) the others fail hard, and a prefix left with none backtracks to shorter ones
      if (f.v6 && f.dev !== undefined && !(e.oif >= 0 ? state.linkName(e.oif) === f.dev : !f.strict || hopVia(e, f.dev, state))) {
        if (f.strict) continue;
        if (!fallback) fallback = e;
        continue;
      }
      if (fallback && fallback.metric !== e.metric) return fallback;
      return e;
    }
    if (fallback) return fallback;
  }
  return undefined;
}

/** Reads `dst` and `options` into the shared Flow; returns the family. */
function readFlow(dst: string, options: LookupOptions): IpFamily {
  const f = flow;
  const kind = parseAddressInto(dst, scratch);
  if (kind === NOT_IP) throw new RequestError('dst', dst, 'an IP address');
  const family: IpFamily = kind === IPV6 ? 6 : 4;
  f.v6 = kind === IPV6;
  f.d0 = scratch[0] as number;
  f.d1 = scratch[1] as number;
  f.d2 = scratch[2] as number;
  f.d3 = scratch[3] as number;
  f.hasSrc = false;
  f.s0 = f.s1 = f.s2 = f.s3 = 0;
  if (options.src !== undefined) {
    if (parseAddressInto(options.src, scratch) !== kind)
      throw new RequestError('src', options.src, `an address of family ${familyNames[family]}`);
    // the unspecified address is no source (the kernel's saddr 0 / in6addr_any)
    if (scratch[0] || scratch[1] || scratch[2] || scratch[3]) {
      f.hasSrc = true;
      f.s0 = scratch[0] as number;
      f.s1 = scratch[1] as number;
      f.s2 = scratch[2] as number;
      f.s3 = scratch[3] as number;
    }
  }
  f.mark = options.mark ?? 0;
  f.iif = options.iif ?? 'lo';
  f.oif = options.oif;
  f.tos = options.tos ?? 0;
  // ip6_route_input_lookup: an input lookup (inet6_rtm_getroute with iif) passes the input device as the device to
  // prefer (ip6_pol_route_input), strictly for destinations rt6_need_strict() names: multicast, link-local, ::1
  const input = f.v6 && f.iif !== 'lo';
  f.dev = input ? f.iif : f.oif;
  f.strict =
    input && (f.d0 >>> 24 === 0xff || (f.d0 & 0xffc00000) === (0xfe800000 | 0) || (f.d0 === 0 && f.d1 === 0 && f.d2 === 0 && f.d3 === 1));
  return family;
}

const routeErrors = {
  unreachable: 'EHOSTUNREACH',
  prohibit: 'EACCES',
  blackhole: 'EINVAL',
} as const;

/**
 * __ip_dev_find(): an IPv4 address is local when a link has it, or when the local table's longest match for it is
 * a `local` route (127.0.0.0/8 on lo answers for every 127.x address).
 */
function isLocal4(word: number, state: LookupState): boolean {
  if (state.hasLocalAddress4(word)) return true;
  const levels = state.localTable4()?.levels ?? [];
  for (let li = 0; li < levels.length; li++)
    for (let e = (levels[li] as Level).get(word, 0, 0, 0); e !== undefined; e = e.next)
      // fib_table_lookup() with tos 0: the first alias without a tos decides
      if (!e.tos) return e.route.type === 'local';
  return false;
}

/**
 * ip_route_output_key_hash_rcu() checks a given IPv4 source before the rule walk: a multicast or limited broadcast
 * source is EINVAL, a source that is not local ENETUNREACH (`ip route get DST from SRC` without `iif` is an
 * output lookup, so a foreign SRC never reaches the rules; with `iif` it is the input path, not modeled).
 */
function refuseSource4(f: Flow, state: LookupState): LookupResult | undefined {
  const s = f.s0;
  if (s >>> 28 === 0xe || s === -1) return { family: 4, verdict: 'unreachable', code: 'EINVAL', badSource: 'invalid' };
  if (!isLocal4(s, state)) return { family: 4, verdict: 'unreachable', code: 'ENETUNREACH', badSource: 'not-local' };
  return undefined;
}

export function lookupRoute(dst: string, options: LookupOptions, state: LookupState): LookupResult {
  const family = readFlow(dst, options);
  const f = flow;
  const output4 = !f.v6 && f.hasSrc && f.iif === 'lo';
  if (output4) {
    const refused = refuseSource4(f, state);
    if (refused) return refused;
  }
  const rules = state.rules(family);
  let result: LookupResult | undefined;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i] as CompiledRule;
    let ok = ((r.fwmark ^ f.mark) & r.fwmask) === 0;
    if (ok && r.sel !== 0) ok = selectorsMatch(r, f, state);
    if (ok === r.invert) continue;
    const act = r.act;
    if (act === LOOKUP) {
      const entry = r.table && lookupTable(r.table, f, state);
      // a throw route, or no route, continues with the next rule
      if (entry === undefined || entry.kind === THROW) continue;
      const rule = r.rule;
      if (entry.kind !== FORWARD) {
        const route = entry.route;
        const verdict = entry.kind === UNREACHABLE ? 'unreachable' : entry.kind === PROHIBIT ? 'prohibit' : 'blackhole';
        result = { family, verdict, code: routeErrors[verdict], rule, table: r.tableId, route };
        break;
      }
      // fib4_rule_suppress / fib6_rule_suppress: a route no more specific than suppress_prefixlength is ignored
      if (r.suppressPrefixLength >= 0 && entry.dstLength <= r.suppressPrefixLength) continue;
      result = { family, verdict: 'route', rule, table: r.tableId, route: entry.route };
      break;
    }
    if (act === GOTO) {
      // an unresolved goto (no rule at the target priority) is skipped, as FIB_RULE_UNRESOLVED
      if (r.target > i) i = r.target - 1;
      continue;
    }
    if (act === UNREACHABLE_RULE) {
      result = { family, verdict: 'unreachable', code: 'ENETUNREACH', rule: r.rule };
      break;
    }
    if (act === PROHIBIT_RULE || act === BLACKHOLE_RULE) {
      const verdict = act === PROHIBIT_RULE ? 'prohibit' : 'blackhole';
      result = { family, verdict, code: routeErrors[verdict], rule: r.rule };
      break;
    }
  }
  if (!result) result = { family, verdict: 'unreachable', code: 'ENETUNREACH' };
  if (family === 4 && f.oif !== undefined && result.verdict !== 'route') {
    // ip_route_output_key_hash_rcu: "Apparently, routing tables are wrong. Assume, that the destination is on link."
    result = { family, verdict: 'route', onLink: true };
  }
  // __mkroute_output(): a loopback source (127.0.0.0/8) may only leave through a loopback device; a local route
  // delivers through lo
  if (output4 && f.s0 >>> 24 === 127 && result.verdict === 'route' && result.route?.type !== 'local') {
    const dev = result.onLink ? f.oif : result.route?.oif !== undefined ? state.linkName(result.route.oif) : undefined;
    if (dev !== 'lo') return { family, verdict: 'unreachable', code: 'EINVAL', badSource: 'invalid' };
  }
  return result;
}
