/**
 * Checks a Ruleset before anything touches the kernel. Every problem is reported (RulesetError.errors), each
 * naming the rule's index and field. Restrictions mirror what the kernel would refuse later with a less clear
 * message: xt_owner only in OUTPUT/POSTROUTING, nat targets only in the nat table, -i/-o only where the hook has
 * that interface (iptables "Can't use -o with PREROUTING").
 */
import { checkCidr, checkHost } from './addresses.js';
import { RuleError, RulesetError } from './errors.js';
import { findLoops } from './loops.js';
import {
  type AddrType,
  type BuiltinChain,
  builtinChains,
  type CtState,
  type IdSpec,
  type Negatable,
  type PortSpec,
  type Rule,
  type Ruleset,
  tableChains,
} from './types.js';

/** Which backend the rules are for: nft cannot express everything iptables can (see README). */
export type ValidateFor = 'iptables' | 'nft' | 'any';

const ctStates: readonly CtState[] = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'];
const addrTypes: readonly AddrType[] = [
  'UNSPEC',
  'UNICAST',
  'LOCAL',
  'BROADCAST',
  'ANYCAST',
  'MULTICAST',
  'BLACKHOLE',
  'UNREACHABLE',
  'PROHIBIT',
];
/** Our own chains: `meshwan_` + lowercase, so they never clash with the hook chains `meshwan_OUTPUT` etc.; 28 = XT_EXTENSION_MAXNAMELEN - 1. */
const customChainPattern = /^meshwan_[a-z0-9_]{1,20}$/;
const commentPattern = /^[A-Za-z0-9 _.:,/-]{0,100}$/;
/** IFNAMSIZ - 1 characters, no '/', whitespace or quotes. */
const interfacePattern = /^[A-Za-z0-9_.:@-]{1,15}\+?$/;

export function isBuiltinChain(chain: string): chain is BuiltinChain {
  return (builtinChains as readonly string[]).includes(chain);
}

export function unwrap<T>(value: Negatable<T>): { value: T; not: boolean } {
  if (typeof value === 'object' && value !== null && 'not' in value) return { value: value.not, not: true };
  return { value: value as T, not: false };
}

const isU32 = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;

function checkRange(spec: PortSpec | IdSpec, inRange: (n: unknown) => boolean, what: string): string | undefined {
  if (Array.isArray(spec)) {
    const [first, last] = spec as readonly unknown[];
    if (spec.length !== 2 || !inRange(first) || !inRange(last) || (first as number) > (last as number)) {
      return `expected a ${what} or a range [first, last] with first <= last, got ${JSON.stringify(spec)}`;
    }
    return undefined;
  }
  return inRange(spec) ? undefined : `expected a ${what}, got ${JSON.stringify(spec)}`;
}

/** Checks one rule; `chainsUsed` collects the (family, table, chain) keys of jump targets for the caller. */
function checkRule(rule: Rule, index: number, target: ValidateFor): RuleError[] {
  const errors: RuleError[] = [];
  const fail = (field: string, reason: string) => errors.push(new RuleError(index, field, reason));
  if (rule.family !== 4 && rule.family !== 6) fail('family', `expected 4 or 6, got ${JSON.stringify(rule.family)}`);
  if (!['raw', 'nat', 'mangle', 'filter'].includes(rule.table))
    fail('table', `expected raw, nat, mangle or filter, got ${JSON.stringify(rule.table)}`);
  if (errors.length > 0) return errors;
  const builtin = isBuiltinChain(rule.chain) ? rule.chain : undefined;
  if (builtin) {
    if (!tableChains[rule.table].includes(builtin)) fail('chain', `the ${rule.table} table has no ${builtin} chain`);
  } else if (!customChainPattern.test(rule.chain)) {
    fail(
      'chain',
      `expected a built-in chain (${builtinChains.join(', ')}) or meshwan_ + up to 20 of [a-z0-9_], got ${JSON.stringify(rule.chain)}`,
    );
  }
  if (rule.comment !== undefined && !commentPattern.test(rule.comment)) {
    fail('comment', 'expected at most 100 of letters, digits, space and -_.:,/');
  }
  const m = rule.match ?? {};
  const proto = m.protocol;
  if (proto !== undefined) {
    if (!['tcp', 'udp', 'icmp', 'icmpv6'].includes(proto))
      fail('match.protocol', `expected tcp, udp, icmp or icmpv6, got ${JSON.stringify(proto)}`);
    else if (proto === 'icmp' && rule.family === 6) fail('match.protocol', 'icmp is IPv4; use icmpv6 in an ipv6 rule');
    else if (proto === 'icmpv6' && rule.family === 4) fail('match.protocol', 'icmpv6 is IPv6; use icmp in an ipv4 rule');
  }
  for (const field of ['source', 'destination'] as const) {
    const v = m[field];
    if (v === undefined) continue;
    const reason = checkCidr(unwrap(v).value, rule.family);
    if (reason) fail(`match.${field}`, reason);
  }
  for (const field of ['sourcePort', 'destinationPort'] as const) {
    const v = m[field];
    if (v === undefined) continue;
    const reason = checkRange(v, isPort, 'port 1..65535');
    if (reason) fail(`match.${field}`, reason);
    else if (proto !== 'tcp' && proto !== 'udp') fail(`match.${field}`, 'a port match needs protocol tcp or udp');
  }
  const hooksWith = { inInterface: ['PREROUTING', 'INPUT', 'FORWARD'], outInterface: ['FORWARD', 'OUTPUT', 'POSTROUTING'] } as const;
  for (const field of ['inInterface', 'outInterface'] as const) {
    const v = m[field];
    if (v === undefined) continue;
    const name = unwrap(v).value;
    if (typeof name !== 'string' || !interfacePattern.test(name))
      fail(`match.${field}`, `expected an interface name of 1..15 characters, got ${JSON.stringify(name)}`);
    else if (builtin && !(hooksWith[field] as readonly string[]).includes(builtin))
      fail(`match.${field}`, `not available in ${builtin} (only ${hooksWith[field].join(', ')})`);
  }
  if (m.owner !== undefined) {
    const o = m.owner;
    if (o.uid === undefined && o.gid === undefined) fail('match.owner', 'needs uid or gid');
    if (o.uid !== undefined) {
      const r = checkRange(o.uid, isU32, 'uid');
      if (r) fail('match.owner.uid', r);
    }
    if (o.gid !== undefined) {
      const r = checkRange(o.gid, isU32, 'gid');
      if (r) fail('match.owner.gid', r);
    }
    if (o.supplGroups) {
      if (o.gid === undefined) fail('match.owner.supplGroups', 'needs gid (iptables --suppl-groups requires --gid-owner)');
      if (target === 'nft')
        fail('match.owner.supplGroups', 'nft meta skgid matches only the primary gid; supplementary groups need the iptables backend');
    }
    if (builtin && builtin !== 'OUTPUT' && builtin !== 'POSTROUTING')
      fail('match.owner', `the socket owner is only known in OUTPUT and POSTROUTING, not ${builtin}`);
  }
  if (m.mark !== undefined) {
    const { value } = unwrap(m.mark);
    if (!isU32(value.value)) fail('match.mark.value', `expected a 32-bit number, got ${JSON.stringify(value.value)}`);
    if (value.mask !== undefined && !isU32(value.mask))
      fail('match.mark.mask', `expected a 32-bit number, got ${JSON.stringify(value.mask)}`);
    else if (isU32(value.value) && (value.value & ~(value.mask ?? 0xffffffff)) !== 0) fail('match.mark', 'value has bits outside mask');
  }
  if (m.ctState !== undefined) {
    if (!Array.isArray(m.ctState) || m.ctState.length === 0) fail('match.ctState', `expected a non-empty list of ${ctStates.join(', ')}`);
    else
      for (const s of m.ctState)
        if (!ctStates.includes(s)) fail('match.ctState', `expected one of ${ctStates.join(', ')}, got ${JSON.stringify(s)}`);
  }
  if (m.addrType !== undefined) {
    const { source, destination } = m.addrType;
    if (source === undefined && destination === undefined) fail('match.addrType', 'needs source or destination');
    for (const [field, v] of [
      ['source', source],
      ['destination', destination],
    ] as const) {
      if (v !== undefined && !addrTypes.includes(unwrap(v).value))
        fail(`match.addrType.${field}`, `expected one of ${addrTypes.join(', ')}, got ${JSON.stringify(unwrap(v).value)}`);
    }
  }
  checkTarget(rule, builtin, target, fail);
  return errors;
}

function checkTarget(
  rule: Rule,
  builtin: BuiltinChain | undefined,
  backend: ValidateFor,
  fail: (field: string, reason: string) => void,
): void {
  const t = rule.target;
  switch (t.type) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
      return;
    case 'REJECT':
      if (rule.table !== 'filter') fail('target', 'REJECT is only valid in the filter table');
      return;
    case 'jump':
      if (!customChainPattern.test(t.chain))
        fail('target.chain', `expected one of our chains (meshwan_ + [a-z0-9_]), got ${JSON.stringify(t.chain)}`);
      else if (t.chain === rule.chain) fail('target.chain', 'a chain cannot jump to itself');
      return;
    case 'DNAT':
    case 'REDIRECT': {
      if (rule.table !== 'nat') fail('target', `${t.type} is only valid in the nat table`);
      else if (builtin && builtin !== 'PREROUTING' && builtin !== 'OUTPUT')
        fail('target', `${t.type} is only valid in PREROUTING and OUTPUT, not ${builtin}`);
      if (t.type === 'DNAT') {
        const r = checkHost(t.address, rule.family);
        if (r) fail('target.address', r);
      }
      if (t.port !== undefined) {
        if (!isPort(t.port)) fail('target.port', `expected a port 1..65535, got ${JSON.stringify(t.port)}`);
        else if (rule.match?.protocol !== 'tcp' && rule.match?.protocol !== 'udp')
          fail('target.port', 'a port needs protocol tcp or udp in the match');
      }
      return;
    }
    case 'MARK':
      if (!isU32(t.set)) fail('target.set', `expected a 32-bit number, got ${JSON.stringify(t.set)}`);
      if (t.mask !== undefined && !isU32(t.mask)) fail('target.mask', `expected a 32-bit number, got ${JSON.stringify(t.mask)}`);
      else if (isU32(t.set) && (t.set & ~(t.mask ?? 0xffffffff)) !== 0) fail('target', 'set has bits outside mask');
      return;
    case 'CONNMARK':
      if (t.mask !== undefined && !isU32(t.mask)) fail('target.mask', `expected a 32-bit number, got ${JSON.stringify(t.mask)}`);
      if (t.op === 'set') {
        if (!isU32(t.value)) fail('target.value', `expected a 32-bit number, got ${JSON.stringify(t.value)}`);
        else if ((t.value & ~(t.mask ?? 0xffffffff)) !== 0) fail('target', 'value has bits outside mask');
      } else if (t.op === 'save' || t.op === 'restore') {
        const several = t.mask !== undefined && t.mask !== 0xffffffff && (t.mask & (t.mask - 1)) !== 0;
        if (backend === 'nft' && t.op === 'restore' && several && rule.match?.mark !== undefined) {
          fail(
            'target.mask',
            'nft restores a masked mark bit by bit, which a packet mark match in the same rule would see change; use one bit or no mark match',
          );
        }
      } else fail('target.op', `expected set, save or restore, got ${JSON.stringify((t as { op: unknown }).op)}`);
      return;
    case 'CT':
      if (rule.table !== 'raw') fail('target', 'CT is only valid in the raw table');
      // nf_conntrack_zone ids are 16 bits; zone 0 is the default zone every other flow is in.
      if (!Number.isInteger(t.zoneOrig) || t.zoneOrig < 1 || t.zoneOrig > 0xffff)
        fail('target.zoneOrig', `expected a conntrack zone 1..65535, got ${JSON.stringify(t.zoneOrig)}`);
      return;
    default:
      fail(
        'target.type',
        `expected ACCEPT, DROP, REJECT, RETURN, jump, DNAT, REDIRECT, MARK, CONNMARK or CT, got ${JSON.stringify((t as { type: unknown }).type)}`,
      );
  }
}

/** Every problem in `ruleset`, in rule order; empty when it is valid. */
export function checkRuleset(ruleset: Ruleset, backend: ValidateFor = 'any'): RuleError[] {
  if (typeof ruleset !== 'object' || ruleset === null || !Array.isArray(ruleset.rules)) {
    return [new RuleError(-1, '', 'expected a ruleset { rules: Rule[] }')];
  }
  const errors = ruleset.rules.flatMap((rule, index) => {
    if (typeof rule !== 'object' || rule === null || typeof rule.target !== 'object' || rule.target === null) {
      return [new RuleError(index, '', 'expected a rule object with family, table, chain and target')];
    }
    return checkRule(rule, index, backend);
  });
  // Loops only make sense to look for between chains that are themselves valid.
  return errors.length > 0 ? errors : findLoops(ruleset.rules);
}

/** Throws RulesetError listing every problem; returns the ruleset unchanged when it is valid. */
export function validate(ruleset: Ruleset, backend: ValidateFor = 'any'): Ruleset {
  const errors = checkRuleset(ruleset, backend);
  if (errors.length > 0) throw new RulesetError(errors);
  return ruleset;
}
