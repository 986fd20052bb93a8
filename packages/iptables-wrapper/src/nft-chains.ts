/**
 * Where our rules live in nftables: `table inet meshwan`, a base chain per iptables table and hook (nat_output)
 * and custom chains named table_name (nat_meshwan_dns), because nft chain names are per table, not per iptables
 * table. Shared by the renderer (nft-rules.ts) and the reader (nft-state.ts), so neither imports the other's job.
 */
import type { BuiltinChain, Table } from './types.js';
import { isBuiltinChain } from './validate.js';

export const nftTable = 'meshwan';

export interface BaseChain {
  readonly type: 'nat' | 'filter' | 'route';
  readonly hook: string;
  readonly prio: number;
}

/**
 * Hook priorities as in iptables' tables (NF_IP_PRI_NAT_DST -100, NF_IP_PRI_NAT_SRC 100, NF_IP_PRI_MANGLE -150,
 * NF_IP_PRI_FILTER 0). Numeric, because nft 1.0.6 refuses the name `dstnat` on the output hook.
 */
export function baseChain(table: Table, builtin: BuiltinChain): BaseChain {
  const hook = builtin.toLowerCase();
  // NF_IP_PRI_RAW -300: before conntrack (-200), where a zone must be set.
  if (table === 'raw') return { type: 'filter', hook, prio: -300 };
  if (table === 'nat') return { type: 'nat', hook, prio: builtin === 'PREROUTING' || builtin === 'OUTPUT' ? -100 : 100 };
  if (table === 'mangle') return { type: builtin === 'OUTPUT' ? 'route' : 'filter', hook, prio: -150 };
  return { type: 'filter', hook, prio: 0 };
}

export function nftChain(table: Table, chain: string): string {
  return `${table}_${isBuiltinChain(chain) ? chain.toLowerCase() : chain}`;
}
