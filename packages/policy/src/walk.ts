/**
 * The kernel's policy routing as a pure function (net/core/fib_rules.c fib_rules_lookup, net/ipv6/fib6_rules.c,
 * net/ipv4/fib_rules.c): rules in pref order, selectors, invert, actions, goto, suppress_prefixlength, then the
 * table's longest-prefix match. `meshwan check` uses it to enumerate paths; it is not a second routing stack.
 * Caveats: one nexthop per route, no l3mdev, tos and uid only as given in the packet.
 */
import { type Family, prefixContains } from './ip.js';
import type { Route, Rule } from './model.js';

export interface Packet {
  readonly family: Family;
  readonly dst: bigint;
  /** Undefined: the socket is not bound, so `from` selectors do not match (no FIB_RULE_FIND_SADDR). */
  readonly src?: bigint;
  readonly mark: number;
  /** The input device; `lo` for locally generated packets (flowi_iif = LOOPBACK_IFINDEX). */
  readonly iif: string;
  readonly oif?: string;
  readonly uid?: number;
  readonly ipproto?: number;
  readonly sport?: number;
  readonly dport?: number;
}

export type Outcome =
  /** A route was found: the packet leaves (or is delivered, for a local route). */
  | { readonly kind: 'route'; readonly rule: Rule; readonly route: Route }
  /** A rule action or a reject route ended the lookup with an error. */
  | { readonly kind: 'reject'; readonly rule: Rule; readonly route?: Route; readonly reason: string }
  /** Every rule was tried and none resolved: ENETUNREACH. */
  | { readonly kind: 'none' };

function inRange(value: number | undefined, range: readonly [number, number] | undefined): boolean {
  if (range === undefined) return true;
  return value !== undefined && value >= range[0] && value <= range[1];
}

/** fib_rule_match plus the family's match function; `invert` flips the whole selector result. */
export function ruleMatches(rule: Rule, p: Packet): boolean {
  let ok = true;
  if (rule.iif !== undefined && rule.iif !== p.iif) ok = false;
  else if (rule.oif !== undefined && rule.oif !== p.oif) ok = false;
  else if (rule.fwmark !== undefined && ((p.mark ^ rule.fwmark) & (rule.fwmask ?? 0xffffffff)) >>> 0 !== 0) ok = false;
  else if (
    rule.src !== undefined &&
    rule.src.len > 0 &&
    (p.src === undefined ? p.family === 6 || !prefixContains(rule.src, 0n) : !prefixContains(rule.src, p.src))
  )
    ok = false;
  else if (rule.dst !== undefined && !prefixContains(rule.dst, p.dst)) ok = false;
  else if (rule.tos !== undefined && rule.tos !== 0) ok = false;
  else if (rule.uidrange !== undefined && !inRange(p.uid, rule.uidrange)) ok = false;
  else if (rule.ipproto !== undefined && rule.ipproto !== p.ipproto) ok = false;
  else if (!inRange(p.sport, rule.sport) || !inRange(p.dport, rule.dport)) ok = false;
  return rule.invert ? !ok : ok;
}

const forwardingTypes = new Set(['unicast', 'local', 'broadcast', 'anycast', 'multicast']);

/** The table's best route for the packet: longest dst, then longest src (IPv6 subtrees), then lowest metric. */
export function lookupTable(routes: readonly Route[], table: number, p: Packet): Route | undefined {
  let best: Route | undefined;
  for (const r of routes) {
    if (r.table !== table || r.family !== p.family || !prefixContains(r.dst, p.dst)) continue;
    if (r.src !== undefined && r.src.len > 0 && (p.src === undefined || !prefixContains(r.src, p.src))) continue;
    // With an output device given (SO_BINDTODEVICE, a scoped link-local address), only its routes qualify.
    if (p.oif !== undefined && forwardingTypes.has(r.type) && r.dev !== p.oif) continue;
    if (!best) {
      best = r;
      continue;
    }
    const better =
      r.dst.len !== best.dst.len
        ? r.dst.len > best.dst.len
        : (r.src?.len ?? 0) !== (best.src?.len ?? 0)
          ? (r.src?.len ?? 0) > (best.src?.len ?? 0)
          : r.metric < best.metric;
    if (better) best = r;
  }
  return best;
}

/** Walks the rules like fib_rules_lookup and returns where the packet ends, with the rules it passed. */
export function walk(rules: readonly Rule[], routes: readonly Route[], p: Packet): { outcome: Outcome; trace: readonly Rule[] } {
  const ordered = rules.filter((r) => r.family === p.family).sort((a, b) => a.priority - b.priority);
  const trace: Rule[] = [];
  for (let i = 0; i < ordered.length; i++) {
    const rule = ordered[i] as Rule;
    if (!ruleMatches(rule, p)) continue;
    trace.push(rule);
    switch (rule.action) {
      case 'nop':
        continue;
      case 'goto': {
        const target = ordered.findIndex((r) => r.priority === rule.goto);
        // An unresolved goto is skipped (fib_rules_lookup: ctarget == NULL).
        if (target > i) i = target - 1;
        continue;
      }
      case 'lookup': {
        const route = rule.table === undefined ? undefined : lookupTable(routes, rule.table, p);
        if (!route || route.type === 'throw') continue;
        // fib6_rule_suppress / fib4_rule_suppress: a result no more specific than this is ignored.
        if (rule.suppressPrefixlen !== undefined && route.dst.len <= rule.suppressPrefixlen) continue;
        if (forwardingTypes.has(route.type)) return { outcome: { kind: 'route', rule, route }, trace };
        return { outcome: { kind: 'reject', rule, route, reason: route.type }, trace };
      }
      default:
        return { outcome: { kind: 'reject', rule, reason: rule.action }, trace };
    }
  }
  return { outcome: { kind: 'none' }, trace };
}

/**
 * A locally generated packet as ip6_dst_lookup_tail sends it: an unbound IPv6 socket is looked up without a
 * source; if that fails, the kernel picks a source anyway (from any device) and looks up again with it. That
 * second lookup is the road to gluon #520. Returns one result per source the kernel might pick.
 */
export function walkOutput(
  rules: readonly Rule[],
  routes: readonly Route[],
  p: Packet,
  candidateSources: readonly bigint[],
): { src?: bigint; outcome: Outcome; trace: readonly Rule[] }[] {
  const first = walk(rules, routes, p);
  if (p.family !== 6 || p.src !== undefined || first.outcome.kind === 'route') return [first];
  return [first, ...candidateSources.map((src) => ({ src, ...walk(rules, routes, { ...p, src }) }))];
}
