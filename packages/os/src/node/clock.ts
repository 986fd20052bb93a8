import { performance } from 'node:perf_hooks';

/** Monotonic milliseconds, as QuickJS's os.now(). */
export function monotonicNow(): number {
  return performance.now();
}
