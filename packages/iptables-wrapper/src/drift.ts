/** Drift between the ruleset we want and what the kernel has, as reported by Firewall.status(). */
import type { IpFamily } from '@meshwan/os';
import type { Table } from './types.js';

export type DriftKind = 'missing-rule' | 'extra-rule' | 'wrong-order' | 'missing-jump' | 'extra-jump' | 'missing-chain' | 'extra-chain';

export interface Drift {
  readonly kind: DriftKind;
  /** `inet` for the nft backend, whose chains hold both families. */
  readonly family: IpFamily | 'inet';
  readonly table: Table;
  /** The chain as the backend names it (iptables `meshwan_OUTPUT`, nft `nat_output`). */
  readonly chain: string;
  /** What is missing or extra: our rule's comment for a missing rule, the kernel's text for an extra one. */
  readonly detail: string;
}

/** A drift's family as the text says it: `ipv4`, `ipv6` (nft's nfproto words) or `inet` (nft's table for both). */
export function driftFamily(family: Drift['family']): string {
  return family === 'inet' ? family : `ipv${family}`;
}

export interface DriftReport {
  /** True when the kernel has exactly the ruleset: every rule in order, every jump once, no extra chain. */
  readonly inSync: boolean;
  readonly drift: readonly Drift[];
}

/** An ordered list of rule ids (undefined: a rule we did not write) compared with what we want. */
export function compareChain(
  where: { family: IpFamily | 'inet'; table: Table; chain: string },
  want: readonly { id: string; text: string }[],
  have: readonly { id: string | undefined; text: string }[],
): Drift[] {
  const drift: Drift[] = [];
  const remaining = new Map<string, number>();
  for (const h of have) if (h.id) remaining.set(h.id, (remaining.get(h.id) ?? 0) + 1);
  for (const w of want) {
    const n = remaining.get(w.id) ?? 0;
    if (n > 0) remaining.set(w.id, n - 1);
    else drift.push({ kind: 'missing-rule', ...where, detail: w.text });
  }
  const wanted = new Map<string, number>();
  for (const w of want) wanted.set(w.id, (wanted.get(w.id) ?? 0) + 1);
  for (const h of have) {
    const n = h.id ? (wanted.get(h.id) ?? 0) : 0;
    if (h.id && n > 0) wanted.set(h.id, n - 1);
    else drift.push({ kind: 'extra-rule', ...where, detail: h.text });
  }
  if (drift.length === 0 && want.map((w) => w.id).join() !== have.map((h) => h.id).join()) {
    drift.push({ kind: 'wrong-order', ...where, detail: have.map((h) => h.id).join(' ') });
  }
  return drift;
}
