/**
 * Reads `table inet meshwan` back: from `nft -j list` (JSON, nft built with libjansson, OpenWrt's nftables-json),
 * or from `nft -a list` text where JSON support is not compiled in (OpenWrt's nftables-nojson). Pure.
 */
import { idFromComment } from './identity.js';
import type { BaseChain } from './nft-chains.js';

/** What we read back from `nft -j list table inet meshwan`. */
export interface NftState {
  readonly chains: Map<string, { base?: BaseChain; rules: { id: string | undefined; text: string }[] }>;
}

interface NftJsonChain {
  name: string;
  type?: string;
  hook?: string;
  prio?: number;
}
interface NftJsonRule {
  chain: string;
  handle: number;
  comment?: string;
}

/** Parses nft's JSON listing; throws Error with the reason if it is not what nft 1.0 prints. */
export function parseNftJson(text: string): NftState {
  const doc = JSON.parse(text) as { nftables?: Record<string, unknown>[] };
  if (!Array.isArray(doc.nftables)) throw new Error('expected {"nftables": [...]}');
  const chains: NftState['chains'] = new Map();
  for (const item of doc.nftables) {
    if ('chain' in item) {
      const c = item.chain as NftJsonChain;
      const base = c.hook !== undefined ? { type: c.type as BaseChain['type'], hook: c.hook, prio: c.prio ?? 0 } : undefined;
      chains.set(c.name, { ...(base ? { base } : {}), rules: [] });
    }
  }
  for (const item of doc.nftables) {
    if ('rule' in item) {
      const r = item.rule as NftJsonRule;
      chains
        .get(r.chain)
        ?.rules.push({ id: idFromComment(r.comment), text: `handle ${r.handle}${r.comment ? ` comment "${r.comment}"` : ''}` });
    }
  }
  return { chains };
}

/** nft's names for standard priorities (nft(8) "STANDARD PRIORITY NAMES", inet family). */
const priorityNames: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

/** `-100`, `dstnat`, `filter - 10`, `mangle + 5` as a number; NaN when unknown. */
export function parsePriority(text: string): number {
  const m = /^\s*(-?\d+|[a-z]+)\s*(?:([+-])\s*(\d+))?\s*$/.exec(text);
  if (!m?.[1]) return Number.NaN;
  const base = /^-?\d+$/.test(m[1]) ? Number(m[1]) : (priorityNames[m[1]] ?? Number.NaN);
  return base + (m[2] === '-' ? -1 : 1) * Number(m[3] ?? 0);
}

/** Parses `nft -a list table inet meshwan` text; throws Error with the line it cannot read. */
export function parseNftText(text: string): NftState {
  const chains: NftState['chains'] = new Map();
  let current: ReturnType<NftState['chains']['get']>;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line === '}' || line.startsWith('table ')) {
      if (line === '}') current = undefined;
      continue;
    }
    const chain = /^chain (\S+) \{/.exec(line);
    if (chain?.[1]) {
      current = { rules: [] };
      chains.set(chain[1], current);
      continue;
    }
    if (!current) throw new Error(`line ${i + 1}: expected a chain, got ${JSON.stringify(line)}`);
    const base = /^type (\w+) hook (\w+) (?:device \S+ )?priority ([^;]+);/.exec(line);
    if (base?.[1] && base[2] && base[3]) {
      current.base = { type: base[1] as BaseChain['type'], hook: base[2], prio: parsePriority(base[3]) };
      continue;
    }
    const comment = /comment "((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
    const handle = /# handle (\d+)$/.exec(line)?.[1] ?? '?';
    current.rules.push({ id: idFromComment(comment), text: `handle ${handle}${comment ? ` comment "${comment}"` : ''}` });
  }
  return { chains };
}
