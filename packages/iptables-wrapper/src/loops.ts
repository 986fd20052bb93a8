/**
 * Jump loops between our chains (meshwan_a → meshwan_b → meshwan_a). The kernel refuses them (ip_tables'
 * mark_source_chains: ELOOP; nf_tables: ELOOP at commit) with no word of which rule; we name it first.
 */
import { RuleError } from './errors.js';
import type { Rule } from './types.js';

/** One RuleError per jump that closes a loop, at the rule that closes it. */
export function findLoops(rules: readonly Rule[]): RuleError[] {
  const edges = new Map<string, { to: string; index: number }[]>();
  const key = (r: Rule, chain: string) => `${r.family} ${r.table} ${chain}`;
  rules.forEach((r, index) => {
    if (typeof r !== 'object' || r === null || r.target?.type !== 'jump') return;
    const from = key(r, r.chain);
    edges.set(from, [...(edges.get(from) ?? []), { to: key(r, r.target.chain), index }]);
  });
  const errors: RuleError[] = [];
  const done = new Set<string>();
  const visit = (node: string, path: string[]) => {
    if (done.has(node)) return;
    for (const edge of edges.get(node) ?? []) {
      const at = path.indexOf(edge.to);
      if (at >= 0 || edge.to === node) {
        const cycle = [...path.slice(at >= 0 ? at : path.length - 1), edge.to].map((k) => k.split(' ')[2]);
        errors.push(new RuleError(edge.index, 'target.chain', `jumping here makes a loop: ${cycle.join(' -> ')}`));
      } else visit(edge.to, [...path, edge.to]);
    }
    done.add(node);
  };
  for (const node of edges.keys()) visit(node, [node]);
  return errors.sort((a, b) => a.index - b.index);
}
