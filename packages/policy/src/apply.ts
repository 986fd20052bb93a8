/**
 * One reconciliation pass: dump the kernel, derive what must be there, run the plan (through netlink), apply the
 * firewall ruleset (through iptables-wrapper). Every step is tried even when an earlier one failed; every failure
 * is reported, none is merged away.
 */
import { driftFamily, type Firewall } from '@meshwan/iptables-wrapper';
import type { Netlink } from '@meshwan/netlink';
import type { Context } from './config.js';
import { type Desired, deriveDesired } from './desired.js';
import { ApplyError } from './errors.js';
import { firewallRuleset } from './firewall.js';
import { installedFile, readInstalled, writeInstalled } from './installed.js';
import { describeStep, type KernelSource, readKernel, runStep } from './kernel.js';
import { formatRoute, type Route, routeKey, tableName } from './model.js';
import { type MovedRoute, movedEntry, movedFile, readMoved, writeMoved } from './moved.js';
import { netifdRunning } from './netifd.js';
import { planChanges } from './plan.js';
import { ensureFwmarkAccept } from './sysctl.js';

export interface ApplyReport {
  /** Each change made, as a log line (`add rule 9000: …`). */
  readonly changes: readonly string[];
  readonly errors: readonly ApplyError[];
}

export interface ApplyScope {
  readonly routing: boolean;
  readonly firewall: boolean;
}

/**
 * Makes the kernel's rules and routes match the context, and puts back the routes it moved earlier that are gone
 * from their table (moved.ts). `source`: where the kernel's state is read (the daemon passes its Monitor's cache);
 * unset, the kernel is dumped afresh.
 */
export function applyRouting(nl: Netlink, ctx: Context, nowMs = Date.now(), source: KernelSource = nl): ApplyReport {
  // Beside a running netifd, meshwan adds only its gate and moves (README "Beside netifd").
  const netifd = netifdRunning();
  const previous = readMoved(ctx.paths.stateDir);
  const alive = previous.filter((m) => m.until === undefined || m.until > nowMs);
  const derive = (from: KernelSource) => {
    const state = { ...readKernel(from), netifd };
    return {
      state,
      desired: deriveDesired(
        ctx.network,
        ctx.split,
        state,
        ctx.uplinks,
        alive.map((m) => m.route),
      ),
    };
  };
  let { state, desired } = derive(source);
  // A cached route's lifetime is the one its last notification carried, not what is left now: a move or refresh of
  // an expiring (RA) route takes the time left from a fresh dump, or the copy would outlive the router's announcement.
  if (source !== nl && desired.routes.some((r) => r.expiresSeconds !== undefined)) ({ state, desired } = derive(nl));
  const installed = readInstalled(ctx.paths.stateDir);
  const plan = planChanges(desired, state.rules, state.routes, installed);
  const changes: string[] = [];
  const errors: ApplyError[] = [];
  // A stale config route whose delete failed stays in the record, to be tried again on the next pass.
  const keep: Route[] = [...desired.configRoutes];
  const stale = new Set(installed.map(routeKey));
  const failedAdds = new Set<string>();
  for (const step of plan.steps) {
    if (step.op === 'deleteRoute' && step.after !== undefined && failedAdds.has(routeKey(step.after))) {
      // Make-before-break: without its new copy, deleting the route would lose it (and its gateway) for good.
      const why = `kept: its add to table ${tableName(step.after.table)} failed, it is moved on a later pass`;
      errors.push(new ApplyError(step.op, formatRoute(step.route), new Error(why)));
      continue;
    }
    try {
      runStep(nl, step);
      changes.push(describeStep(step));
    } catch (err: unknown) {
      if (!(err instanceof ApplyError)) throw err;
      errors.push(err);
      if (step.op === 'addRoute') failedAdds.add(routeKey(step.route));
      if (step.op === 'deleteRoute' && stale.has(routeKey(step.route))) keep.push(step.route);
    }
  }
  try {
    writeInstalled(ctx.paths.stateDir, keep, installed);
  } catch (err: unknown) {
    errors.push(new ApplyError('record', installedFile(ctx.paths.stateDir), err));
  }
  try {
    writeMoved(ctx.paths.stateDir, movedRecord(desired, alive, failedAdds, nowMs), previous);
  } catch (err: unknown) {
    errors.push(new ApplyError('record', movedFile(ctx.paths.stateDir), err));
  }
  try {
    const change = ensureFwmarkAccept();
    if (change) changes.push(change);
  } catch (err: unknown) {
    errors.push(new ApplyError('sysctl', 'net.ipv4.tcp_fwmark_accept=1', err));
  }
  return { changes, errors };
}

/**
 * The record after a pass: the moved routes that still belong where they are, then this pass's moves (a newer
 * lifetime replaces an older one). A route whose add failed is left out: a move's stays in its old table and is
 * tried again; a put-back the kernel refuses (its gateway no longer reachable) is forgotten, not retried forever.
 */
function movedRecord(desired: Desired, alive: readonly MovedRoute[], failedAdds: ReadonlySet<string>, nowMs: number): MovedRoute[] {
  const until = new Map(alive.map((m) => [routeKey(m.route), m.until]));
  const record = new Map<string, MovedRoute>();
  for (const route of desired.kept) {
    const key = routeKey(route);
    const u = until.get(key);
    if (!failedAdds.has(key)) record.set(key, u !== undefined ? { route, until: u } : { route });
  }
  // A kernel prefix route replaced by netifd's subnet route is not moved: its replacement is a recorded config route.
  const derived = new Set(desired.configRoutes.map(routeKey));
  for (const { to } of desired.moves) {
    const key = routeKey(to);
    if (!failedAdds.has(key) && !derived.has(key)) record.set(key, movedEntry(to, nowMs));
  }
  return [...record.values()];
}

/** Makes the firewall hold exactly meshwan's ruleset. */
export async function applyFirewall(firewall: Firewall, ctx: Context): Promise<ApplyReport> {
  try {
    const result = await firewall.apply(firewallRuleset(ctx.network, ctx.settings, ctx.uplinks));
    const changes = result.repaired.map(
      (d) => `firewall ${firewall.name}: repair ${d.kind} ${driftFamily(d.family)} ${d.table} ${d.chain} ${d.detail}`,
    );
    if (result.changed && changes.length === 0) changes.push(`firewall ${firewall.name}: ruleset written`);
    return { changes, errors: [] };
  } catch (err: unknown) {
    return { changes: [], errors: [new ApplyError('firewall', firewall.name, err)] };
  }
}

export async function applyAll(
  nl: Netlink | undefined,
  firewall: Firewall | undefined,
  ctx: Context,
  scope: ApplyScope,
): Promise<ApplyReport> {
  const changes: string[] = [];
  const errors: ApplyError[] = [];
  if (scope.routing && nl) {
    const r = applyRouting(nl, ctx);
    changes.push(...r.changes);
    errors.push(...r.errors);
  }
  if (scope.firewall && firewall) {
    const f = await applyFirewall(firewall, ctx);
    changes.push(...f.changes);
    errors.push(...f.errors);
  }
  return { changes, errors };
}
