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
import { addressHex, prefixKey } from './prefix.js';
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
  rules(family: Family): readonly Rule[];
  table(family: Family, id: number): TableIndex | undefined;
  linkExists(name: string): boolean;
  linkName(index: number): string | undefined;
}

interface Flow {
  family: Family;
  dstHex: string;
  srcHex: string | undefined;
  mark: number;
  iif: string;
  oif: string | undefined;
  tos: number;
}

/** Rule prefixes as keys, computed once per rule object (rules are replaced, never mutated). */
const ruleKeys = new WeakMap<Rule, { src: string; dst: string }>();

function keysOf(rule: Rule): { src: string; dst: string } {
  let k = ruleKeys.get(rule);
  if (!k) {
    const key = (addr: string | undefined, length: number) =>
      addr === undefined || length === 0 ? '' : prefixKey(addressHex(addr) ?? '', length);
    k = { src: key(rule.src, rule.srcLength), dst: key(rule.dst, rule.dstLength) };
    ruleKeys.set(rule, k);
  }
  return k;
}

function prefixMatches(hex: string | undefined, key: string, length: number): boolean {
  if (length === 0) return true;
  return hex !== undefined && prefixKey(hex, length) === key;
}

function ruleMatches(rule: Rule, flow: Flow, state: LookupState): boolean {
  let ok = true;
  if (rule.iif !== undefined && (rule.flags & FIB_RULE_IIF_DETACHED || !state.linkExists(rule.iif) || rule.iif !== flow.iif)) ok = false;
  else if (rule.oif !== undefined && (rule.flags & FIB_RULE_OIF_DETACHED || !state.linkExists(rule.oif) || rule.oif !== flow.oif))
    ok = false;
  else if (((rule.fwmark ?? 0) ^ flow.mark) & (rule.fwmask ?? 0)) ok = false;
  else if (rule.dstLength > 0 && !prefixMatches(flow.dstHex, keysOf(rule).dst, rule.dstLength)) ok = false;
  else if (rule.srcLength > 0) {
    // IPv4 compares the flow's saddr (0.0.0.0 when unset); IPv6 cannot match a source it does not have
    const src = flow.srcHex ?? (flow.family === 'inet' ? '00000000' : undefined);
    if (!prefixMatches(src, keysOf(rule).src, rule.srcLength)) ok = false;
  }
  if (ok && rule.tos && rule.tos !== flow.tos) ok = false;
  return rule.invert ? !ok : ok;
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
  for (const length of table.lengths) {
    const bucket = table.byLength.get(length)?.get(prefixKey(flow.dstHex, length));
    if (!bucket) continue;
    let fallback: Route | undefined;
    for (const entry of bucket) {
      const r = entry.route;
      if (flow.family === 'inet' && r.tos && r.tos !== flow.tos) continue;
      if (entry.srcKey && (flow.srcHex === undefined || prefixKey(flow.srcHex, r.srcLength) !== entry.srcKey)) continue;
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
  const dstHex = addressHex(dst);
  if (!family || dstHex === undefined) throw new RequestError('dst', dst, 'an IP address');
  let srcHex: string | undefined;
  if (options.src !== undefined) {
    srcHex = addressHex(options.src);
    if (srcHex === undefined || familyOf(options.src) !== family)
      throw new RequestError('src', options.src, `an address of family ${family}`);
    if (/^0+$/.test(srcHex)) srcHex = undefined;
  }
  const flow: Flow = { family, dstHex, srcHex, mark: options.mark ?? 0, iif: options.iif ?? 'lo', oif: options.oif, tos: options.tos ?? 0 };
  const rules = state.rules(family);
  let result: LookupResult | undefined;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as Rule;
    if (!ruleMatches(rule, flow, state)) continue;
    if (rule.action === 'goto') {
      const target = rules.findIndex((r) => r.priority === rule.goto);
      // an unresolved goto (no rule at the target priority) is skipped, as FIB_RULE_UNRESOLVED
      if (target > i) i = target - 1;
      continue;
    }
    if (rule.action === 'nop') continue;
    if (rule.action === 'unreachable') {
      result = { family, verdict: 'unreachable', code: 'ENETUNREACH', rule };
      break;
    }
    if (rule.action === 'prohibit' || rule.action === 'blackhole') {
      result = { family, verdict: rule.action, code: routeErrors[rule.action], rule };
      break;
    }
    if (rule.action !== 'lookup') continue;
    const table = state.table(family, rule.table);
    const route = table && lookupTable(table, flow, state);
    if (!route || route.type === 'throw') continue;
    if (route.type === 'unreachable' || route.type === 'prohibit' || route.type === 'blackhole') {
      result = { family, verdict: route.type, code: routeErrors[route.type], rule, table: rule.table, route };
      break;
    }
    // fib4_rule_suppress / fib6_rule_suppress: a route no more specific than suppress_prefixlength is ignored
    if (rule.suppressPrefixLength !== undefined && route.dstLength <= rule.suppressPrefixLength) continue;
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
