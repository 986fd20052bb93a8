/**
 * Pure core of the iptables backend: parses `iptables-save` output and computes, for one family, the drift and
 * the `iptables-restore --noflush` script that turns the kernel's state into the ruleset. The script touches only
 * chains named meshwan_* and rules that jump to them; each table's part is one COMMIT, which the kernel applies
 * atomically (legacy: one table replace; nft-compat: one nftables transaction).
 */

import type { IpFamily } from '@meshwan/os';
import { compareChain, type Drift } from './drift.js';
import { idFromComment } from './identity.js';
import { hookChain, iptablesChain, quote, ruleArgs } from './iptables-rules.js';
import type { BuiltinChain, Rule, Table } from './types.js';
import { isBuiltinChain } from './validate.js';

interface SavedRule {
  readonly chain: string;
  /** Tokens after `-A CHAIN`, unquoted. */
  readonly args: readonly string[];
  readonly text: string;
}

interface SavedTable {
  readonly chains: string[];
  readonly rules: SavedRule[];
}

export type SavedState = Map<Table, SavedTable>;

/** Splits an iptables-save line into tokens; double quotes group, backslash escapes inside them. */
export function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    let token = '';
    while (i < line.length && line[i] !== ' ') {
      if (line[i] === '"') {
        i++;
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < line.length) i++;
          token += line[i];
          i++;
        }
        i++;
      } else {
        token += line[i];
        i++;
      }
    }
    tokens.push(token);
  }
  return tokens;
}

/** Parses iptables-save output; tables other than raw, nat, mangle and filter are skipped. */
export function parseSave(text: string): SavedState {
  const state: SavedState = new Map();
  let current: SavedTable | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      const name = line.slice(1).trim();
      current = name === 'raw' || name === 'nat' || name === 'mangle' || name === 'filter' ? { chains: [], rules: [] } : undefined;
      if (current) state.set(name as Table, current);
    } else if (!current) {
    } else if (line.startsWith(':')) {
      current.chains.push(line.slice(1).split(' ')[0] ?? '');
    } else if (line.startsWith('-A ')) {
      const [, chain = '', ...args] = tokenize(line);
      current.rules.push({ chain, args, text: line });
    }
  }
  return state;
}

const argAfter = (args: readonly string[], flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};

/** Where a rule jumps (-j) or goes (-g); a goto into our chain holds it just like a jump. */
const jumpTarget = (args: readonly string[]) => argAfter(args, '-j') ?? argAfter(args, '-g');

export interface Plan {
  readonly drift: Drift[];
  /** iptables-restore --noflush input; empty when nothing needs to change. */
  readonly script: string;
}

/** Drift and repair script for `family`, given its iptables-save state and the whole ruleset. */
export function planIptables(family: IpFamily, state: SavedState, rules: readonly Rule[]): Plan {
  const drift: Drift[] = [];
  const parts: string[] = [];
  for (const table of ['raw', 'nat', 'mangle', 'filter'] as const) {
    const mine = rules.filter((r) => r.family === family && r.table === table);
    const saved = state.get(table) ?? { chains: [], rules: [] };
    const lines = planTable(family, table, saved, mine, drift);
    if (lines.length > 0) parts.push(`*${table}`, ...lines, 'COMMIT');
  }
  return { drift, script: parts.length > 0 ? `${parts.join('\n')}\n` : '' };
}

function planTable(family: IpFamily, table: Table, saved: SavedTable, rules: readonly Rule[], drift: Drift[]): string[] {
  const at = (chain: string) => ({ family, table, chain });
  const want = new Map<string, Rule[]>();
  const builtins = new Set<BuiltinChain>();
  for (const rule of rules) {
    const chain = iptablesChain(rule);
    want.set(chain, [...(want.get(chain) ?? []), rule]);
    if (isBuiltinChain(rule.chain)) builtins.add(rule.chain);
    if (rule.target.type === 'jump' && !want.has(rule.target.chain)) want.set(rule.target.chain, []);
  }
  const ours = new Set(saved.chains.filter((c) => c.startsWith('meshwan_')));
  const rewrite: string[] = [];
  for (const [chain, wanted] of want) {
    if (!ours.has(chain)) {
      drift.push({ kind: 'missing-chain', ...at(chain), detail: chain });
      rewrite.push(chain);
      continue;
    }
    const have = saved.rules
      .filter((r) => r.chain === chain)
      .map((r) => ({ id: idFromComment(argAfter(r.args, '--comment')), text: r.text }));
    const d = compareChain(
      at(chain),
      wanted.map((r) => ({ id: idFromComment(argAfter(ruleArgs(r), '--comment')) ?? '', text: argAfter(ruleArgs(r), '--comment') ?? '' })),
      have,
    );
    drift.push(...d);
    if (d.length > 0) rewrite.push(chain);
  }
  const stale = [...ours].filter((c) => !want.has(c));
  for (const chain of stale) drift.push({ kind: 'extra-chain', ...at(chain), detail: chain });
  // Jumps into our chains from chains we do not own: exactly one plain `-j meshwan_B` per built-in chain B used.
  const deletes: string[] = [];
  const kept = new Set<string>();
  for (const r of saved.rules) {
    const target = jumpTarget(r.args);
    if (ours.has(r.chain) || !target?.startsWith('meshwan_')) continue;
    const wanted = isBuiltinChain(r.chain) && builtins.has(r.chain) && target === hookChain(r.chain) && r.args.length === 2;
    if (wanted && !kept.has(r.chain)) {
      kept.add(r.chain);
      continue;
    }
    drift.push({ kind: 'extra-jump', ...at(r.chain), detail: r.text });
    deletes.push(['-D', r.chain, ...r.args].map(quote).join(' '));
  }
  const inserts: string[] = [];
  for (const b of builtins) {
    if (kept.has(b)) continue;
    drift.push({ kind: 'missing-jump', ...at(b), detail: `-j ${hookChain(b)}` });
    inserts.push(`-I ${b} 1 -j ${hookChain(b)}`);
  }
  if (rewrite.length === 0 && stale.length === 0 && deletes.length === 0 && inserts.length === 0) return [];
  return [
    // Declaring a chain creates it, or flushes it under --noflush; stale chains are flushed before -X.
    ...[...rewrite, ...stale].map((c) => `:${c} - [0:0]`),
    ...deletes,
    ...stale.map((c) => `-X ${c}`),
    ...rewrite.flatMap((c) => (want.get(c) ?? []).map((r) => ['-A', c, ...ruleArgs(r)].map(quote).join(' '))),
    ...inserts,
  ];
}

/**
 * The script that puts our part of `old` back, given `current`: used when the other family's commit failed after
 * this one's succeeded. Our chains get their old rules verbatim, jumps into them return to their old positions;
 * foreign rules are untouched (their positions did not change, as we only ever add or delete our own jumps).
 */
export function rollbackScript(current: SavedState, old: SavedState): string {
  const parts: string[] = [];
  for (const table of ['raw', 'nat', 'mangle', 'filter'] as const) {
    const now = current.get(table) ?? { chains: [], rules: [] };
    const before = old.get(table) ?? { chains: [], rules: [] };
    const oursNow = now.chains.filter((c) => c.startsWith('meshwan_'));
    const oursBefore = before.chains.filter((c) => c.startsWith('meshwan_'));
    const isJump = (r: SavedRule) => !r.chain.startsWith('meshwan_') && (jumpTarget(r.args) ?? '').startsWith('meshwan_');
    const line = (verb: string, r: SavedRule, position = '') =>
      [verb, r.chain, ...(position ? [position] : []), ...r.args].map(quote).join(' ');
    const jumpsNow = now.rules.filter(isJump);
    const jumpsBefore: string[] = [];
    for (const chain of new Set(before.rules.filter(isJump).map((r) => r.chain))) {
      before.rules
        .filter((r) => r.chain === chain)
        .forEach((r, i) => {
          if (isJump(r)) jumpsBefore.push(line('-I', r, String(i + 1)));
        });
    }
    const lines = [
      ...[...new Set([...oursNow, ...oursBefore])].map((c) => `:${c} - [0:0]`),
      ...jumpsNow.map((r) => line('-D', r)),
      ...oursNow.filter((c) => !oursBefore.includes(c)).map((c) => `-X ${c}`),
      ...before.rules.filter((r) => r.chain.startsWith('meshwan_')).map((r) => line('-A', r)),
      ...jumpsBefore,
    ];
    if (oursNow.length + oursBefore.length + jumpsNow.length > 0) parts.push(`*${table}`, ...lines, 'COMMIT');
  }
  return parts.length > 0 ? `${parts.join('\n')}\n` : '';
}
