/**
 * Renders a Rule as the arguments of an iptables-restore `-A` line. Pure. Order follows iptables-save's own
 * (-s -d -i -o -p, then -m matches, then -j), so a dumped rule reads like the one we wrote.
 */
import { ruleComment } from './identity.js';
import type { BuiltinChain, IdSpec, MarkSpec, Match, PortSpec, Rule, Target } from './types.js';
import { isBuiltinChain, unwrap } from './validate.js';

/** Our chain hooked into built-in chain `builtin`: meshwan_OUTPUT (uppercase, so it never clashes with custom chains). */
export function hookChain(builtin: BuiltinChain): string {
  return `meshwan_${builtin}`;
}

/** The iptables chain a rule is appended to. */
export function iptablesChain(rule: Rule): string {
  return isBuiltinChain(rule.chain) ? hookChain(rule.chain) : rule.chain;
}

const hex = (n: number) => `0x${n.toString(16)}`;
const range = (spec: PortSpec | IdSpec, sep: string) => (Array.isArray(spec) ? `${spec[0]}${sep}${spec[1]}` : String(spec));
const markArg = (m: MarkSpec) => `${hex(m.value)}${m.mask === undefined || m.mask === 0xffffffff ? '' : `/${hex(m.mask)}`}`;

/** Quotes a token for iptables-restore, which splits on spaces and understands double quotes. */
export function quote(token: string): string {
  return /^[A-Za-z0-9_.:,/+=@![\]-]+$/.test(token) ? token : `"${token.replace(/["\\]/g, '\\$&')}"`;
}

function negatable(flag: string, value: Parameters<typeof unwrap<string>>[0] | undefined): string[] {
  if (value === undefined) return [];
  const { value: v, not } = unwrap(value);
  return not ? ['!', flag, v] : [flag, v];
}

function matchArgs(m: Match): string[] {
  const args: string[] = [
    ...negatable('-s', m.source),
    ...negatable('-d', m.destination),
    ...negatable('-i', m.inInterface),
    ...negatable('-o', m.outInterface),
  ];
  if (m.protocol) args.push('-p', m.protocol === 'icmpv6' ? 'ipv6-icmp' : m.protocol);
  if (m.owner) {
    args.push('-m', 'owner');
    if (m.owner.uid !== undefined) args.push('--uid-owner', range(m.owner.uid, '-'));
    if (m.owner.gid !== undefined) args.push('--gid-owner', range(m.owner.gid, '-'));
    if (m.owner.supplGroups) args.push('--suppl-groups');
  }
  if (m.mark) {
    const { value, not } = unwrap(m.mark);
    args.push('-m', 'mark', ...(not ? ['!'] : []), '--mark', markArg(value));
  }
  if (m.ctState) args.push('-m', 'conntrack', '--ctstate', m.ctState.join(','));
  if (m.addrType) {
    args.push('-m', 'addrtype');
    for (const [flag, v] of [
      ['--src-type', m.addrType.source],
      ['--dst-type', m.addrType.destination],
    ] as const) {
      if (v === undefined) continue;
      const { value, not } = unwrap(v);
      args.push(...(not ? ['!'] : []), flag, value);
    }
  }
  if ((m.sourcePort !== undefined || m.destinationPort !== undefined) && m.protocol) {
    args.push('-m', m.protocol);
    if (m.sourcePort !== undefined) args.push('--sport', range(m.sourcePort, ':'));
    if (m.destinationPort !== undefined) args.push('--dport', range(m.destinationPort, ':'));
  }
  return args;
}

function targetArgs(t: Target, rule: Rule): string[] {
  switch (t.type) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
    case 'REJECT':
      return ['-j', t.type];
    case 'jump':
      return ['-j', t.chain];
    case 'DNAT': {
      const address = rule.family === 6 && t.port !== undefined ? `[${t.address}]` : t.address;
      return ['-j', 'DNAT', '--to-destination', t.port === undefined ? address : `${address}:${t.port}`];
    }
    case 'REDIRECT':
      return ['-j', 'REDIRECT', ...(t.port === undefined ? [] : ['--to-ports', String(t.port)])];
    case 'MARK':
      // --set-xmark v/m computes (mark & ~m) ^ v, which is (mark & ~m) | v because validate() keeps v inside m.
      return ['-j', 'MARK', '--set-xmark', `${hex(t.set)}/${hex(t.mask ?? 0xffffffff)}`];
    case 'CONNMARK':
      if (t.op === 'set') return ['-j', 'CONNMARK', '--set-xmark', `${hex(t.value)}/${hex(t.mask ?? 0xffffffff)}`];
      return [
        '-j',
        'CONNMARK',
        t.op === 'save' ? '--save-mark' : '--restore-mark',
        '--nfmask',
        hex(t.mask ?? 0xffffffff),
        '--ctmask',
        hex(t.mask ?? 0xffffffff),
      ];
    case 'CT':
      return ['-j', 'CT', '--zone-orig', String(t.zoneOrig)];
  }
}

/** The tokens after `-A CHAIN`, unquoted. */
export function ruleArgs(rule: Rule): string[] {
  return [...matchArgs(rule.match ?? {}), '-m', 'comment', '--comment', ruleComment(rule), ...targetArgs(rule.target, rule)];
}

/** The whole `-A CHAIN …` line as iptables-restore reads it. */
export function ruleLine(rule: Rule): string {
  return ['-A', iptablesChain(rule), ...ruleArgs(rule)].map(quote).join(' ');
}

/** The same rule as one `iptables` command (used by the bench and the dry run). */
export function ruleCommand(rule: Rule): string[] {
  return [rule.family === 4 ? 'iptables' : 'ip6tables', '-w', '-t', rule.table, '-A', iptablesChain(rule), ...ruleArgs(rule)];
}
