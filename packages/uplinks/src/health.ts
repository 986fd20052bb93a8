/**
 * Per-uplink health: a pure state machine over carrier changes and probe rounds, with mwan3's hysteresis
 * (net/mwan3 mwan3track: an interface goes online after `up` good rounds in a row and offline after `down` bad
 * ones). Loss of carrier is not a guess and takes the uplink down at once, as mwan3's ifdown hotplug does.
 */

export type HealthState = 'up' | 'down';

export interface Hysteresis {
  /** good probe rounds in a row before a down uplink counts as up (mwan3 `up`) */
  readonly up: number;
  /** failed probe rounds in a row before an up uplink counts as down (mwan3 `down`) */
  readonly down: number;
}

export interface Health {
  readonly state: HealthState;
  readonly carrier: boolean;
  /** consecutive good rounds (reset by a bad one) */
  readonly good: number;
  /** consecutive bad rounds (reset by a good one) */
  readonly bad: number;
  /** why the state is what it is, for `status` */
  readonly reason: string;
  /** round counters since start, for `status` */
  readonly rounds: number;
  readonly lost: number;
}

/** A fresh uplink: down until it has proven itself (or until a last-good restore vouches for it). */
export function initialHealth(): Health {
  return { state: 'down', carrier: false, good: 0, bad: 0, reason: 'no probe answered yet', rounds: 0, lost: 0 };
}

/** Carrier (IFLA_CARRIER and admin up) changed or was read. Losing it is immediate; regaining it still needs probes. */
export function applyCarrier(h: Health, carrier: boolean): Health {
  if (carrier === h.carrier) return h;
  if (!carrier) return { ...h, carrier, state: 'down', good: 0, bad: 0, reason: 'no carrier' };
  return { ...h, carrier, good: 0, bad: 0, reason: 'carrier is back; waiting for probes' };
}

/** One probe round finished: `ok` when enough targets answered (mwan3 `reliability`). */
export function applyProbe(h: Health, ok: boolean, hy: Hysteresis, detail = ''): Health {
  const rounds = h.rounds + 1;
  const suffix = detail ? ` (${detail})` : '';
  if (!h.carrier) {
    // A late probe result must not resurrect an uplink whose cable is out.
    return { ...h, rounds, lost: h.lost + (ok ? 0 : 1), state: 'down', good: 0, reason: 'no carrier' };
  }
  if (ok) {
    const good = h.good + 1;
    if (h.state === 'down' && good >= hy.up) {
      return {
        ...h,
        rounds,
        good,
        bad: 0,
        state: 'up',
        reason: `up: ${good} probe round${good === 1 ? '' : 's'} answered in a row (up=${hy.up})${suffix}`,
      };
    }
    const reason = h.state === 'up' ? `up: last probe answered${suffix}` : `down: ${good} of ${hy.up} good rounds needed${suffix}`;
    return { ...h, rounds, good, bad: 0, reason };
  }
  const bad = h.bad + 1;
  const lost = h.lost + 1;
  if (h.state === 'up' && bad >= hy.down) {
    return {
      ...h,
      rounds,
      lost,
      good: 0,
      bad,
      state: 'down',
      reason: `down: ${bad} probe round${bad === 1 ? '' : 's'} lost in a row (down=${hy.down})${suffix}`,
    };
  }
  // Down already: the reason keeps counting the losses that keep it down (it still says why, on every round).
  const reason =
    h.state === 'up'
      ? `up: ${bad} of ${hy.down} lost rounds before down${suffix}`
      : `down: ${bad} probe round${bad === 1 ? '' : 's'} lost in a row${suffix}`;
  return { ...h, rounds, lost, good: 0, bad, reason };
}

/** A last-good restore whose gateway answered: trust it now instead of waiting `up` rounds (boot speed). */
export function applyRestored(h: Health, gateway: string): Health {
  return { ...h, carrier: true, state: 'up', good: 0, bad: 0, reason: `up: restored last-good default, gateway ${gateway} answered` };
}

/** How many targets of a round must answer for the round to be good (mwan3 `reliability`, capped to the count). */
export function roundOk(answered: number, targets: number, reliability: number): boolean {
  if (targets === 0) return false;
  return answered >= Math.min(reliability, targets);
}
