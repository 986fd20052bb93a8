/**
 * The pure chooser: which uplinks carry the WAN table's default. mwan3's policy model (net/mwan3: members with
 * `metric` and `weight`; the lowest metric among online members wins, equal metrics share by weight) applied to
 * one table: the best healthy uplink alone, or weighted multipath over the healthy uplinks sharing the best
 * metric. No healthy uplink means no default of ours, so the unreachable metric-65535 floor fails closed.
 */

import type { IpFamily } from '@meshwan/os';
import type { HealthState } from './health.js';

export interface Candidate {
  readonly name: string;
  readonly family: IpFamily;
  /** mwan3 member `metric`: lower is preferred */
  readonly metric: number;
  /** mwan3 member `weight`, 1..256 (the kernel's nexthop weight range, rtnh_hops + 1) */
  readonly weight: number;
  readonly state: HealthState;
  readonly enabled: boolean;
  readonly device: string;
  /** undefined for a point-to-point uplink (wwan, ppp): the route then names only the device */
  readonly gateway: string | undefined;
}

export interface ChosenMember {
  readonly name: string;
  readonly device: string;
  readonly gateway: string | undefined;
  readonly weight: number;
}

export interface Choice {
  readonly family: IpFamily;
  /** empty: no default of ours (fail closed); one: a single-path default; several: multipath */
  readonly members: readonly ChosenMember[];
  readonly reason: string;
}

function describe(c: Candidate): string {
  return `${c.name} (metric ${c.metric}, weight ${c.weight})`;
}

/** Chooses the default for one family. Deterministic: members are ordered by name, so equal input gives equal routes. */
export function choose(family: IpFamily, candidates: readonly Candidate[]): Choice {
  const mine = candidates.filter((c) => c.family === family && c.enabled);
  const healthy = mine.filter((c) => c.state === 'up');
  if (healthy.length === 0) {
    const what = mine.length === 0 ? 'no uplink is configured' : `no uplink is healthy (${mine.map((c) => c.name).join(', ')} down)`;
    return { family, members: [], reason: `${what}: the unreachable metric-65535 floor fails closed` };
  }
  const best = Math.min(...healthy.map((c) => c.metric));
  const chosen = healthy.filter((c) => c.metric === best).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const standby = mine.filter((c) => !chosen.includes(c));
  const members = chosen.map((c) => ({ name: c.name, device: c.device, gateway: c.gateway, weight: c.weight }));
  const others =
    standby.length === 0 ? '' : `; ${standby.map((c) => `${c.name} ${c.state === 'up' ? 'stands by' : 'is down'}`).join(', ')}`;
  if (chosen.length === 1) {
    const [only] = chosen;
    return { family, members, reason: `${only ? describe(only) : ''} is the healthy uplink with the lowest metric${others}` };
  }
  return { family, members, reason: `weighted multipath: ${chosen.map(describe).join(' and ')} are healthy at metric ${best}${others}` };
}

/** Two choices route the same way (same members, devices, gateways and weights in the same order). */
export function sameChoice(a: Choice | undefined, b: Choice): boolean {
  if (!a || a.family !== b.family || a.members.length !== b.members.length) return false;
  return a.members.every((m, i) => {
    const o = b.members[i];
    return o !== undefined && o.name === m.name && o.device === m.device && o.gateway === m.gateway && o.weight === m.weight;
  });
}
