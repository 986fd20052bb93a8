/** The interface every backend implements, so the compiler catches a backend that drifts from the others. */
import type { DriftReport } from './drift.js';
import type { BackendName } from './errors.js';
import type { Ruleset } from './types.js';

export interface ApplyResult {
  /** False when the kernel already had exactly this ruleset and nothing was written. */
  readonly changed: boolean;
  /** The drift that was repaired (empty when unchanged). */
  readonly repaired: DriftReport['drift'];
}

export interface Firewall {
  readonly name: BackendName;
  /** Validates, then replaces everything meshwan has in the firewall with `ruleset`, atomically per table (iptables) or at once (nft). */
  apply(ruleset: Ruleset): Promise<ApplyResult>;
  /** Removes every chain and jump meshwan owns; the firewall is left as if we had never been there. */
  remove(): Promise<void>;
  /** Compares the kernel with `ruleset`: missing or extra rules, chains and jumps. Writes nothing. */
  status(ruleset: Ruleset): Promise<DriftReport>;
}

export interface BackendOptions {
  /** Run every tool inside this network namespace (`ip netns exec NAME`). */
  readonly netns?: string;
}
