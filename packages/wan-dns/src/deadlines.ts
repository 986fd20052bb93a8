/**
 * Attempt timeouts without one Node timer per attempt: a binary min-heap of deadlines and one timer armed for
 * the earliest. A setTimeout per upstream attempt costs a Timeout object, a timer-list insertion and a
 * clearTimeout on nearly every answer; here an answered attempt just leaves the heap, and the timer is only
 * re-armed when a new deadline is earlier than the one it waits for (attempts mostly arrive in deadline order).
 */
import { type TimerHandle, timers } from '@meshwan/os';

export interface Expiring {
  /** The deadline (ms, the same clock as `now`). */
  expiresAt: number;
  /** Position in the heap, -1 when not in it. */
  heapIndex: number;
}

export class Deadlines<T extends Expiring> {
  private readonly heap: T[] = [];
  private timer: TimerHandle | undefined;
  private armedAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly onExpire: (item: T) => void,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  add(item: T, at: number): void {
    item.expiresAt = at;
    item.heapIndex = this.heap.length;
    this.heap.push(item);
    this.up(item.heapIndex);
    if (at < this.armedAt) this.arm(at);
  }

  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.heap[i] !== item) return;
    const last = this.heap.pop() as T;
    item.heapIndex = -1;
    if (last === item) return;
    this.heap[i] = last;
    last.heapIndex = i;
    this.down(i);
    this.up(last.heapIndex);
  }

  /** Stops the timer; items stay where they are (nothing expires any more). */
  close(): void {
    if (this.timer !== undefined) timers.clear(this.timer);
    this.timer = undefined;
    this.armedAt = Number.NEGATIVE_INFINITY;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) timers.clear(this.timer);
    this.armedAt = at;
    this.timer = timers.after(Math.max(1, Math.ceil(at - this.now())), () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    // Node's timers have 1 ms granularity: what is due within the next millisecond expires now.
    const now = this.now() + 1;
    for (;;) {
      const first = this.heap[0];
      if (first === undefined) return;
      if (first.expiresAt > now) break;
      this.remove(first);
      this.onExpire(first);
    }
    const first = this.heap[0];
    if (first !== undefined && first.expiresAt < this.armedAt) this.arm(first.expiresAt);
  }

  private up(i: number): void {
    const h = this.heap;
    const item = h[i] as T;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as T;
      if (parent.expiresAt <= item.expiresAt) break;
      h[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    h[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const item = h[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (h[r] as T).expiresAt < (h[l] as T).expiresAt ? r : l;
      const child = h[c] as T;
      if (child.expiresAt >= item.expiresAt) break;
      h[i] = child;
      child.heapIndex = i;
      i = c;
    }
    h[i] = item;
    item.heapIndex = i;
  }
}
