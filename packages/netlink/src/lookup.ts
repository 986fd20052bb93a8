/**
 * The kernel's route lookup over cached state. Rule walk: net/core/fib_rules.c fib_rules_lookup() with
 * fib_rule_match() (iif/oif, fwmark/mask, then the family's from/to/tos; the result inverted by `not`), goto
 * jumps, nop, suppress_prefixlength applied only to a successful table lookup; unreachable/prohibit/blackhole
 * rules end the walk. Table: longest prefix first, then IPv4 fib_trie order (tos, metric) or IPv6 fib6 order
 * (source prefix, metric); a throw route, or no route, continues with the next rule.
 */

import { FIB_RULE_IIF_DETACHED, FIB_RULE_OIF_DETACHED, RTNH_F_DEAD } from './codec/constants.js';
import { type Family, familyOf } from './codec/ip.js';
import type { Route } from './codec/route.js';
import type { Rule } from './codec/rule.js';
import { RequestError } from './errors.js';
import { addressWords, samePrefix } from './prefix.js';
import type { TableIndex } from './table.js';

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
  family: Family;
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
}

export interface LookupState {
  /** the family's rules in walk order, compiled (compileRules) */
  rules(family: Family): readonly CompiledRule[];
  table(family: Family, id: number): TableIndex | undefined;
  linkExists(name: string): boolean;
  linkName(index: number): string | undefined;
}

interface Flow {
  family: Family;
  dst: number[];
  src: number[] | undefined;
  mark: number;
  iif: string;
  oif: string | undefined;
  tos: number;
}

/**
 * A rule flattened for the walk: every field present in one fixed shape (decoded rules differ in which optional
 * fields they carry, which would make each property read in the hot loop megamorphic), prefixes as words, and
 * the goto target resolved.
 */
export interface CompiledRule {
  rule: Rule;
  iif: string | undefined;
  oif: string | undefined;
  iifDetached: boolean;
  oifDetached: boolean;
  fwmark: number;
  fwmask: number;
  src: number[];
  srcLength: number;
  dst: number[];
  dstLength: number;
  tos: number;
  invert: boolean;
  action: string;
  table: number;
  /** -1 when unset */
  suppressPrefixLength: number;
  /** index of the first rule at the goto priority, -1 when there is none (an unresolved goto is skipped) */
  target: number;
}

export function compileRules(rules: readonly Rule[]): CompiledRule[] {
  return rules.map((rule) => ({
    rule,
    iif: rule.iif,
    oif: rule.oif,
    iifDetached: (rule.flags & FIB_RULE_IIF_DETACHED) !== 0,
    oifDetached: (rule.flags & FIB_RULE_OIF_DETACHED) !== 0,
    fwmark: rule.fwmark ?? 0,
    fwmask: rule.fwmask ?? 0,
    src: (rule.src !== undefined && addressWords(rule.src)) || [],
    srcLength: rule.srcLength,
    dst: (rule.dst !== undefined && addressWords(rule.dst)) || [],
    dstLength: rule.dstLength,
    tos: rule.tos,
    invert: rule.invert,
    action: rule.action,
    table: rule.table,
    suppressPrefixLength: rule.suppressPrefixLength ?? -1,
    target: rule.action === 'goto' ? rules.findIndex((r) => r.priority === rule.goto) : -1,
  }));
}

function ruleMatches(r: CompiledRule, flow: Flow, state: LookupState): boolean {
  let ok = true;
  if (r.iif !== undefined && (r.iifDetached || r.iif !== flow.iif || !state.linkExists(r.iif))) ok = false;
  else if (r.oif !== undefined && (r.oifDetached || r.oif !== flow.oif || !state.linkExists(r.oif))) ok = false;
  else if ((r.fwmark ^ flow.mark) & r.fwmask) ok = false;
  else if (r.dstLength > 0 && !samePrefix(flow.dst, r.dst, r.dstLength)) ok = false;
  else if (r.srcLength > 0) {
    // IPv4 compares the flow's saddr (0.0.0.0 when unset); IPv6 cannot match a source it does not have
    const src = flow.src ?? (flow.family === 'inet' ? [0] : undefined);
    if (src === undefined || !samePrefix(src, r.src, r.srcLength)) ok = false;
  }
  if (ok && r.tos && r.tos !== flow.tos) ok = false;
  return r.invert ? !ok : ok;
}

function usable(route: Route, flow: Flow, state: LookupState): boolean {
  if (
    route.type !== 'unicast' &&
    route.type !== 'local' &&
    route.type !== 'broadcast' &&
    route.type !== 'multicast' &&
    route.type !== 'anycast'
  )
    return true; // reject and throw routes have no nexthop to check
  if (route.flags & RTNH_F_DEAD) return false;
  const hops = route.nexthops ?? [{ oif: route.oif ?? 0, flags: route.flags }];
  return hops.some(
    (nh) => !(nh.flags & RTNH_F_DEAD) && (flow.oif === undefined || flow.family === 'inet6' || state.linkName(nh.oif) === flow.oif),
  );
}

/** Longest prefix, then the kernel's order within the prefix; undefined when nothing matches. */
export function lookupTable(table: TableIndex, flow: Flow, state: LookupState): Route | undefined {
  const lengths = table.lengths;
  for (let li = 0; li < lengths.length; li++) {
    const length = lengths[li] as number;
    const bucket = table.find(flow.dst, length);
    if (!bucket) continue;
    let fallback: Route | undefined;
    for (let bi = 0; bi < bucket.length; bi++) {
      const entry = bucket[bi] as (typeof bucket)[number];
      const r = entry.route;
      if (flow.family === 'inet' && r.tos && r.tos !== flow.tos) continue;
      if (entry.srcWords && (flow.src === undefined || !samePrefix(flow.src, entry.srcWords, r.srcLength))) continue;
      if (!usable(r, flow, state)) continue;
      // IPv6 prefers, among routes of the lowest metric, one through the requested output device (rt6_check_dev)
      if (flow.family === 'inet6' && flow.oif !== undefined && r.oif !== undefined && state.linkName(r.oif) !== flow.oif) {
        if (!fallback) fallback = r;
        continue;
      }
      if (fallback && fallback.metric !== r.metric) return fallback;
      return r;
    }
    if (fallback) return fallback;
  }
  return undefined;
}

const routeErrors = {
  unreachable: 'EHOSTUNREACH',
  prohibit: 'EACCES',
  blackhole: 'EINVAL',
} as const;

export function lookupRoute(dst: string, options: LookupOptions, state: LookupState): LookupResult {
  const family = familyOf(dst);
  const dstWords = addressWords(dst);
  if (!family || dstWords === undefined) throw new RequestError('dst', dst, 'an IP address');
  let srcWords: number[] | undefined;
  if (options.src !== undefined) {
    srcWords = addressWords(options.src);
    if (srcWords === undefined || familyOf(options.src) !== family)
      throw new RequestError('src', options.src, `an address of family ${family}`);
    if (srcWords.every((w) => w === 0)) srcWords = undefined;
  }
  const flow: Flow = {
    family,
    dst: dstWords,
    src: srcWords,
    mark: options.mark ?? 0,
    iif: options.iif ?? 'lo',
    oif: options.oif,
    tos: options.tos ?? 0,
  };
  const rules = state.rules(family);
  let result: LookupResult | undefined;
  for (let i = 0; i < rules.length; i++) {
    const compiled = rules[i] as CompiledRule;
    const rule = compiled.rule;
    if (!ruleMatches(compiled, flow, state)) continue;
    const action = compiled.action;
    if (action === 'goto') {
      const target = compiled.target;
      // an unresolved goto (no rule at the target priority) is skipped, as FIB_RULE_UNRESOLVED
      if (target > i) i = target - 1;
      continue;
    }
    if (action === 'nop') continue;
    if (action === 'unreachable') {
      result = { family, verdict: 'unreachable', code: 'ENETUNREACH', rule };
      break;
    }
    if (action === 'prohibit' || action === 'blackhole') {
      result = { family, verdict: action, code: routeErrors[action], rule };
      break;
    }
    if (action !== 'lookup') continue;
    const table = state.table(family, compiled.table);
    const route = table && lookupTable(table, flow, state);
    if (!route || route.type === 'throw') continue;
    if (route.type === 'unreachable' || route.type === 'prohibit' || route.type === 'blackhole') {
      result = { family, verdict: route.type, code: routeErrors[route.type], rule, table: rule.table, route };
      break;
    }
    // fib4_rule_suppress / fib6_rule_suppress: a route no more specific than suppress_prefixlength is ignored
    if (compiled.suppressPrefixLength >= 0 && route.dstLength <= compiled.suppressPrefixLength) continue;
    result = { family, verdict: 'route', rule, table: rule.table, route };
    break;
  }
  if (!result) result = { family, verdict: 'unreachable', code: 'ENETUNREACH' };
  if (family === 'inet' && flow.oif !== undefined && result.verdict !== 'route') {
    // ip_route_output_key_hash_rcu: "Apparently, routing tables are wrong. Assume, that the destination is on link."
    return { family, verdict: 'route', onLink: true };
  }
  return result;
}
