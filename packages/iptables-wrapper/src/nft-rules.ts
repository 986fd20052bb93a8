/**
 * Pure core of the nft backend: renders a Ruleset as one `nft -f` transaction that replaces `table inet meshwan`,
 * and compares `nft -j list table inet meshwan` with the ruleset. In the inet family one table serves IPv4 and
 * IPv6; every rule starts with `meta nfproto`. Built-in chains become base chains named table_hook (nat_output),
 * custom chains table_name (nat_meshwan_dns): see nft-chains.ts.
 */
import { compareChain, type Drift } from './drift.js';
import { ruleComment, ruleId } from './identity.js';
import { type BaseChain, baseChain, nftChain, nftTable } from './nft-chains.js';
import type { NftState } from './nft-state.js';
import type { IdSpec, MarkSpec, Match, Negatable, PortSpec, Rule, Table, Target } from './types.js';
import { isBuiltinChain, unwrap } from './validate.js';

const hex = (n: number) => `0x${n.toString(16)}`;
const range = (spec: PortSpec | IdSpec) => (Array.isArray(spec) ? `${spec[0]}-${spec[1]}` : String(spec));
const op = (not: boolean) => (not ? '!= ' : '');
const full = 0xffffffff;

function iface(key: 'iifname' | 'oifname', value: Negatable<string> | undefined): string[] {
  if (value === undefined) return [];
  const { value: name, not } = unwrap(value);
  // iptables' trailing `+` wildcard is nft's `*`.
  return [`${key} ${op(not)}"${name.endsWith('+') ? `${name.slice(0, -1)}*` : name}"`];
}

function markMatch(m: MarkSpec, not: boolean): string {
  const mask = m.mask ?? full;
  return mask === full ? `meta mark ${op(not)}${hex(m.value)}` : `meta mark & ${hex(mask)} ${not ? '!=' : '=='} ${hex(m.value)}`;
}

function matchExprs(rule: Rule, m: Match): string[] {
  const ip = rule.family === 4 ? 'ip' : 'ip6';
  const out: string[] = [`meta nfproto ipv${rule.family}`];
  if (m.protocol) out.push(`meta l4proto ${m.protocol === 'icmpv6' ? 'ipv6-icmp' : m.protocol}`);
  for (const [key, v] of [
    ['saddr', m.source],
    ['daddr', m.destination],
  ] as const) {
    if (v !== undefined) out.push(`${ip} ${key} ${op(unwrap(v).not)}${unwrap(v).value}`);
  }
  out.push(...iface('iifname', m.inInterface), ...iface('oifname', m.outInterface));
  if (m.owner?.uid !== undefined) out.push(`meta skuid ${range(m.owner.uid)}`);
  // meta skgid is the socket's primary (fs) gid only; validate('nft') refuses supplGroups.
  if (m.owner?.gid !== undefined) out.push(`meta skgid ${range(m.owner.gid)}`);
  if (m.mark) out.push(markMatch(unwrap(m.mark).value, unwrap(m.mark).not));
  if (m.ctState) out.push(`ct state { ${m.ctState.map((s) => s.toLowerCase()).join(', ')} }`);
  for (const [key, v] of [
    ['saddr', m.addrType?.source],
    ['daddr', m.addrType?.destination],
  ] as const) {
    if (v !== undefined) out.push(`fib ${key} type ${op(unwrap(v).not)}${unwrap(v).value.toLowerCase()}`);
  }
  if (m.protocol === 'tcp' || m.protocol === 'udp') {
    if (m.sourcePort !== undefined) out.push(`${m.protocol} sport ${range(m.sourcePort)}`);
    if (m.destinationPort !== undefined) out.push(`${m.protocol} dport ${range(m.destinationPort)}`);
  }
  return out;
}

/** `register set register & ~mask | value`, collapsing to a plain set for a full mask. */
function setMark(key: 'meta mark' | 'ct mark', value: number, mask: number | undefined): string {
  const m = mask ?? full;
  if (m === full) return `${key} set ${hex(value)}`;
  return `${key} set ${key} & ${hex(~m >>> 0)} | ${hex(value)}`;
}

function targetExpr(rule: Rule, t: Target): string {
  switch (t.type) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
    case 'REJECT':
      return t.type.toLowerCase();
    case 'jump':
      return `jump ${nftChain(rule.table, t.chain)}`;
    case 'DNAT': {
      const address = rule.family === 6 && t.port !== undefined ? `[${t.address}]` : t.address;
      return `dnat ${rule.family === 4 ? 'ip' : 'ip6'} to ${address}${t.port === undefined ? '' : `:${t.port}`}`;
    }
    case 'REDIRECT':
      return t.port === undefined ? 'redirect' : `redirect to :${t.port}`;
    case 'MARK':
      return setMark('meta mark', t.set, t.mask);
    case 'CONNMARK':
      if (t.op === 'set') return setMark('ct mark', t.value, t.mask);
      return t.op === 'save' ? 'ct mark set meta mark' : 'meta mark set ct mark';
    case 'CT':
      return `ct original zone set ${t.zoneOrig}`;
  }
}

/** The single bits of a mask, lowest first. */
function bits(mask: number): number[] {
  return Array.from({ length: 32 }, (_, i) => (1 << i) >>> 0).filter((b) => (mask & b) !== 0);
}

/**
 * CONNMARK save/restore under a partial mask. nft 1.0.6 cannot OR two registers ("Right hand side of binary
 * operation (|) must be constant"), so `ct mark = (ct mark & ~m) | (meta mark & m)` becomes two rules per bit of
 * m: copy a 1, copy a 0. The source register is never written, so the rules do not disturb each other
 * (validate('nft') refuses the one case where they could: restore with a packet mark match and several bits).
 */
function maskedCopy(t: Extract<Target, { type: 'CONNMARK' }>): string[] | undefined {
  const mask = t.mask ?? full;
  if (t.op === 'set' || mask === full) return undefined;
  const [from, to] = t.op === 'save' ? (['meta mark', 'ct mark'] as const) : (['ct mark', 'meta mark'] as const);
  return bits(mask).flatMap((b) => [
    `${from} & ${hex(b)} == ${hex(b)} ${to} set ${to} | ${hex(b)}`,
    `${from} & ${hex(b)} == 0x0 ${to} set ${to} & ${hex(~b >>> 0)}`,
  ]);
}

/** A rule as nft statement lines: one, or two per mask bit for a masked CONNMARK save/restore. */
function nftRules(rule: Rule): string[] {
  const matches = matchExprs(rule, rule.match ?? {});
  const comment = `comment "${ruleComment(rule)}"`;
  const targets = (rule.target.type === 'CONNMARK' ? maskedCopy(rule.target) : undefined) ?? [targetExpr(rule, rule.target)];
  return targets.map((target) => [...matches, target, comment].join(' '));
}

/** A rule as nft statements, one per line. */
export function nftRule(rule: Rule): string {
  return nftRules(rule).join('\n');
}

interface WantChain {
  base?: BaseChain;
  rules: Rule[];
}

/** The chains the ruleset needs, in first-use order. */
function wantChains(rules: readonly Rule[]): Map<string, WantChain> {
  const chains = new Map<string, WantChain>();
  const get = (table: Table, chain: string) => {
    const name = nftChain(table, chain);
    let c = chains.get(name);
    if (!c) {
      c = { rules: [], ...(isBuiltinChain(chain) ? { base: baseChain(table, chain) } : {}) };
      chains.set(name, c);
    }
    return c;
  };
  for (const rule of rules) {
    get(rule.table, rule.chain).rules.push(rule);
    if (rule.target.type === 'jump') get(rule.table, rule.target.chain);
  }
  return chains;
}

/**
 * The whole transaction: create-if-missing, delete, recreate. nft applies it all or nothing, so there is no
 * moment without our rules, and an empty ruleset leaves no table behind.
 */
export function nftScript(rules: readonly Rule[]): string {
  const lines = [`table inet ${nftTable} {}`, `delete table inet ${nftTable}`];
  const chains = wantChains(rules);
  if (chains.size === 0) return `${lines.join('\n')}\n`;
  lines.push(`table inet ${nftTable} {`);
  for (const [name, c] of chains) {
    lines.push(`\tchain ${name} {`);
    if (c.base) lines.push(`\t\ttype ${c.base.type} hook ${c.base.hook} priority ${c.base.prio}; policy accept;`);
    for (const r of c.rules) for (const line of nftRules(r)) lines.push(`\t\t${line}`);
    lines.push('\t}');
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Drift between the kernel's table and the ruleset. */
export function nftDrift(state: NftState, rules: readonly Rule[]): Drift[] {
  const drift: Drift[] = [];
  const want = wantChains(rules);
  const tableOf = (name: string) => (name.split('_')[0] ?? 'filter') as Table;
  for (const [name, w] of want) {
    const at = { family: 'inet' as const, table: tableOf(name), chain: name };
    const have = state.chains.get(name);
    const sameBase =
      have &&
      (w.base === undefined) === (have.base === undefined) &&
      (!w.base || (w.base.type === have.base?.type && w.base.hook === have.base.hook && w.base.prio === have.base.prio));
    if (!have || !sameBase) {
      drift.push({
        kind: w.base ? 'missing-jump' : 'missing-chain',
        ...at,
        detail: w.base ? `type ${w.base.type} hook ${w.base.hook} priority ${w.base.prio}` : name,
      });
      if (!have) continue;
    }
    drift.push(
      ...compareChain(
        at,
        // A masked CONNMARK save/restore is several kernel rules with the same id.
        w.rules.flatMap((r) => nftRules(r).map(() => ({ id: ruleId(r), text: ruleComment(r) }))),
        have.rules,
      ),
    );
  }
  for (const name of state.chains.keys()) {
    if (!want.has(name)) drift.push({ kind: 'extra-chain', family: 'inet', table: tableOf(name), chain: name, detail: name });
  }
  return drift;
}
