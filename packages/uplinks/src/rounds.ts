/**
 * Probe rounds of one uplink overlap when timeout > interval, and they finish out of order: a round sent just
 * before a drop ended times out after a newer round has already been answered. Applied in finishing order, that
 * stale loss reset the count of good rounds and recovery took one interval more. The sequencer numbers rounds as
 * they are sent and releases verdicts strictly in that order: a newer verdict waits for the older ones in flight,
 * so the hysteresis sees rounds as they happened on the wire. Pure bookkeeping, no timers.
 */

export class RoundSequencer<T> {
  private sent = 0;
  private next = 1;
  private readonly done = new Map<number, T | undefined>();

  /** Numbers a round as it is sent. */
  start(): number {
    this.sent += 1;
    return this.sent;
  }

  /**
   * Records round `seq`'s verdict (undefined: it ended without one, e.g. the probe could not start) and returns
   * the verdicts now due, oldest first: none while an older round is still in flight.
   */
  finish(seq: number, verdict: T | undefined): T[] {
    if (seq < this.next || seq > this.sent || this.done.has(seq)) return [];
    this.done.set(seq, verdict);
    const due: T[] = [];
    while (this.done.has(this.next)) {
      const v = this.done.get(this.next);
      this.done.delete(this.next);
      this.next += 1;
      if (v !== undefined) due.push(v);
    }
    return due;
  }

  /** Rounds sent and not yet released (in flight, or finished behind an older one). */
  get pending(): number {
    return this.sent - this.next + 1;
  }
}
