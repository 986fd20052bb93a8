/**
 * Desired vs actual → a plan of adds and deletes that touches only what meshwan owns: its own gate rules
 * (proto meshwan), rules with proto static that look up an owned table (netifd's and meshwan's, identical on
 * purpose), and the WAN device's routes in main. Anything else in the kernel is left alone.
 * Order is make-before-break: rules and table-T routes are added before anything is deleted, so a repair never
 * opens a window in which an unmarked packet could reach the WAN. A move is an add in the target table paired
 * with a delete from main: the delete names its add (`after`) and is run only once that add succeeded (apply.ts),
 * so a route the kernel refuses in its new table stays where it was instead of vanishing. Routes without a
 * gateway are added first: the kernel checks a gateway against the target table, which needs the on-link prefix.
 */

import type { Rule } from '@meshwan/netlink';
import { type Desired, IPRULE_PRIORITY_REJECT } from './desired.js';
import { type Route, RTPROT_MESHWAN, RTPROT_STATIC, RTPROT_UNSPEC, routeKey, ruleKey } from './model.js';

export type Step =
  | { readonly op: 'addRule'; readonly rule: Rule }
  | { readonly op: 'deleteRule'; readonly rule: Rule }
  | { readonly op: 'addRoute'; readonly route: Route }
  /** A moved RA route announced again: its copy in table T gets the fresh lifetime (in place, no window). */
  | { readonly op: 'refreshRoute'; readonly route: Route }
  /** `after`: the add this delete is paired with (a move); the delete is skipped when that add failed. */
  | { readonly op: 'deleteRoute'; readonly route: Route; readonly after?: Route };

export interface Plan {
  readonly steps: readonly Step[];
}

/**
 * Whether meshwan may delete this rule when it is not desired: its gate (proto meshwan); a lookup of an owned table
 * with proto static (what meshwan before issue #19 put on its copies of netifd's rules: never netifd's own, which
 * carry no protocol); and, only while netifd does not run, the rules of netifd's shapes with proto unspec (a lookup
 * of an owned table, a failed_policy at 4200000000+ifindex). Beside netifd those are netifd's, never touched.
 */
export function ownsRule(rule: Rule, ownedTables: ReadonlySet<number>, netifd = false): boolean {
  if (rule.protocol === RTPROT_MESHWAN) return true;
  const ownedLookup = rule.action === 'lookup' && ownedTables.has(rule.table);
  if (rule.protocol === RTPROT_STATIC) return ownedLookup;
  if (rule.protocol !== RTPROT_UNSPEC || netifd) return false;
  return ownedLookup || (rule.action === 'failed_policy' && rule.priority >= IPRULE_PRIORITY_REJECT);
}

/**
 * `installed`: the config routes a previous pass installed (installed.ts). One that is no longer desired (its
 * section deleted or changed, its interface down) and still in the kernel is deleted, after every add.
 */
export function planChanges(
  desired: Desired,
  actualRules: readonly Rule[],
  actualRoutes: readonly Route[],
  installed: readonly Route[] = [],
): Plan {
  const steps: Step[] = [];
  const actualKeys = new Map<string, number>();
  for (const r of actualRules) actualKeys.set(ruleKey(r), (actualKeys.get(ruleKey(r)) ?? 0) + 1);
  const desiredKeys = new Set<string>();
  for (const rule of desired.rules) {
    const key = ruleKey(rule);
    if (desiredKeys.has(key)) continue;
    desiredKeys.add(key);
    if (!actualKeys.has(key)) steps.push({ op: 'addRule', rule });
  }
  // Keys computed once: a node's main table can hold thousands of mesh routes.
  const actualRouteKeys = new Set(actualRoutes.map(routeKey));
  const viaGateway = (r: Route) => r.gateway !== undefined || r.nexthops !== undefined;
  const adds = desired.routes.filter((r) => !actualRouteKeys.has(routeKey(r)));
  for (const route of [...adds.filter((r) => !viaGateway(r)), ...adds.filter(viaGateway)]) steps.push({ op: 'addRoute', route });
  steps.push(...refreshSteps(desired.routes, actualRoutes));
  const targets = new Map(desired.moves.map((m) => [routeKey(m.from), m.to]));
  const deleted = new Set<string>();
  for (const route of desired.unwantedRoutes) {
    const key = routeKey(route);
    if (!actualRouteKeys.has(key)) continue;
    const to = targets.get(key);
    // Already in its table: nothing to wait for.
    steps.push(
      to !== undefined && !actualRouteKeys.has(routeKey(to)) ? { op: 'deleteRoute', route, after: to } : { op: 'deleteRoute', route },
    );
    deleted.add(key);
  }
  const desiredRouteKeys = new Set(desired.routes.map(routeKey));
  // Beside netifd a recorded config route is netifd's too (same attributes): forgotten, never deleted.
  for (const route of desired.netifd ? [] : installed) {
    const key = routeKey(route);
    if (desiredRouteKeys.has(key) || !actualRouteKeys.has(key) || deleted.has(key)) continue;
    deleted.add(key);
    steps.push({ op: 'deleteRoute', route });
  }
  const seen = new Set<string>();
  for (const rule of actualRules) {
    if (!ownsRule(rule, desired.ownedTables, desired.netifd)) continue;
    const key = ruleKey(rule);
    // A duplicate of a wanted rule (the kernel adds one without NLM_F_EXCL) is surplus too.
    if (desiredKeys.has(key) && !seen.has(key)) {
      seen.add(key);
      continue;
    }
    steps.push({ op: 'deleteRule', rule });
  }
  return { steps };
}

/**
 * A moved RA route (expiresSeconds) that the router announced again is back in main with a fresh lifetime while
 * its copy in table T counts down: without a refresh the copy would expire while the router still announces it.
 * The copy gets the new lifetime when that is later by more than a second (both values come from one dump; the
 * second absorbs rounding). A copy that never expires (moved before expiries were carried) is left alone: the
 * kernel refreshes only a route that already expires (fib6_add_rt2node), so the step would repeat on every pass.
 */
function refreshSteps(desiredRoutes: readonly Route[], actualRoutes: readonly Route[]): Step[] {
  const moved = desiredRoutes.filter((r) => r.expiresSeconds !== undefined);
  if (moved.length === 0) return [];
  const actual = new Map(actualRoutes.map((r) => [routeKey(r), r]));
  const steps: Step[] = [];
  for (const route of moved) {
    const copy = actual.get(routeKey(route));
    if (copy?.expiresSeconds !== undefined && (route.expiresSeconds ?? 0) > copy.expiresSeconds + 1)
      steps.push({ op: 'refreshRoute', route });
  }
  return steps;
}
