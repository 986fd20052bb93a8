/**
 * /etc/config/network → the parts netifd turns into rules and routes: interfaces (device, ip6table, ip4table,
 * metric), `rule`/`rule6` sections (netifd iprule.c iprule_add) and `route`/`route6` sections (interface-ip.c
 * interface_ip_add_route). Pure. Like netifd, a bad section is skipped, but here it is also reported.
 */

import { formatIp, parseIp, type Rule, type RuleAction } from '@meshwan/netlink';
import type { IpFamily } from '@meshwan/os';
import { readUnsigned } from '@meshwan/uci';
import { ConfigError } from './errors.js';
import { formatAddress, network, type Prefix, parseAddress, parsePrefix } from './ip.js';
import { newRule, type RouteType, RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN } from './model.js';
import { type UciSectionInput, uciBool, uciString } from './uci-input.js';

export interface InterfaceConfig {
  readonly name: string;
  /** The layer-3 device: `device`/`ifname`, `br-NAME` for an old-style bridge, `@other` resolved. */
  readonly device?: string;
  readonly proto?: string;
  readonly ip6table?: number;
  readonly ip4table?: number;
  /** Default metric of the interface's routes (netifd iface->metric). */
  readonly metric: number;
  readonly disabled: boolean;
  /** proto static's `gateway` (IPv4) and `ip6gw` (IPv6): netifd adds `default via GW` to the family's table. */
  readonly gateway4?: string;
  readonly gateway6?: string;
}

/**
 * A `rule`/`rule6` section: the rule netifd would send, in @meshwan/netlink's shape (iif/oif unset until the
 * interfaces are resolved), and the section it came from.
 */
interface RuleConfig {
  readonly section: string;
  /** Interface names (not devices): the rule exists only while that interface is up, on its device. */
  readonly in?: string;
  readonly out?: string;
  readonly rule: Rule;
}

interface RouteConfig {
  readonly section: string;
  readonly family: IpFamily;
  /** The interface whose device the route uses; `loopback` with noDevice when the section names none. */
  readonly interface: string;
  readonly noDevice: boolean;
  readonly target: Prefix;
  readonly gateway?: string;
  readonly metric?: number;
  /** Explicit table; main is folded to undefined like netifd (system_is_default_rt_table). */
  readonly table?: number;
  readonly type?: RouteType;
  readonly source?: Prefix;
  readonly mtu?: number;
  readonly proto?: number;
  readonly onlink: boolean;
}

export interface NetworkConfig {
  readonly interfaces: ReadonlyMap<string, InterfaceConfig>;
  readonly rules: readonly RuleConfig[];
  readonly routes: readonly RouteConfig[];
  /**
   * Devices whose `config device` section sets `option ipv6 '1'`: netifd reads that configured value
   * (dev->settings.ipv6), not the kernel's disable_ipv6, to add an interface's IPv6 `iif lo` and `failed_policy`
   * rules. Without the option it is unset.
   */
  readonly ipv6Devices: ReadonlySet<string>;
  /** Every section that was skipped, and why. */
  readonly errors: readonly ConfigError[];
}

/** Reads /etc/iproute2/rt_tables-style names; netifd's system_resolve_rt_table. */
export type TableNames = ReadonlyMap<string, number>;

/** A number as netifd reads it (strtoul(…, 0) over the whole text, @meshwan/uci's readUnsigned), else undefined: a name, maybe. */
function numberOf(text: string): number | undefined {
  const n = readUnsigned(text);
  return n.ok ? n.value : undefined;
}

export function resolveTable(text: string, names: TableNames): number | undefined {
  const n = numberOf(text);
  if (n !== undefined && n > 0) return n;
  if (text === 'default') return RT_TABLE_DEFAULT;
  if (text === 'main') return RT_TABLE_MAIN;
  if (text === 'local') return RT_TABLE_LOCAL;
  return names.get(text);
}

/** Parses rt_tables text (`NUMBER NAME` lines, # comments). */
export function parseTableNames(text: string): TableNames {
  const names = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [num, name] = line.trim().split(/\s+/);
    if (!num || !name || num.startsWith('#')) continue;
    const n = numberOf(num);
    if (n !== undefined) names.set(name, n);
  }
  return names;
}

const ruleActions: Readonly<Record<string, RuleAction>> = {
  unicast: 'lookup',
  blackhole: 'blackhole',
  unreachable: 'unreachable',
  prohibit: 'prohibit',
  failed_policy: 'failed_policy',
};

const routeTypes: readonly RouteType[] = [
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
];

const routeProtos: Readonly<Record<string, number>> = { unspec: 0, kernel: 2, boot: 3, static: 4 };

class Section {
  constructor(
    readonly file: string,
    readonly input: UciSectionInput,
  ) {}
  str(option: string): string | undefined {
    return uciString(this.input.options[option]);
  }
  fail(option: string, reason: string): never {
    throw new ConfigError(this.file, this.input.name, option, reason);
  }
  num(option: string): number | undefined {
    const text = this.str(option);
    if (text === undefined) return undefined;
    const n = readUnsigned(text);
    return n.ok ? n.value : this.fail(option, n.reason);
  }
  bool(option: string): boolean {
    const raw = this.input.options[option];
    if (raw === undefined) return false;
    return uciBool(raw) ?? this.fail(option, `expected a boolean (0/1), got "${String(raw)}"`);
  }
  table(option: string, names: TableNames): number | undefined {
    const text = this.str(option);
    if (text === undefined) return undefined;
    return resolveTable(text, names) ?? this.fail(option, `unknown routing table "${text}"`);
  }
}

function interfaceOf(s: Section, byName: ReadonlyMap<string, UciSectionInput>, depth = 0): string | undefined {
  const device = s.str('device') ?? s.str('ifname')?.split(/\s+/)[0];
  if (s.str('type') === 'bridge') return `br-${s.input.name}`;
  if (device?.startsWith('@')) {
    const other = byName.get(device.slice(1));
    // netifd aliases nest; a loop is a config error, not a hang.
    if (!other || depth > 8) return undefined;
    return interfaceOf(new Section(s.file, other), byName, depth + 1);
  }
  return device;
}

function parseInterface(s: Section, byName: ReadonlyMap<string, UciSectionInput>, names: TableNames): InterfaceConfig {
  const ip6table = s.table('ip6table', names);
  const ip4table = s.table('ip4table', names);
  const proto = s.str('proto');
  return {
    name: s.input.name,
    ...(interfaceOf(s, byName) !== undefined ? { device: interfaceOf(s, byName) } : {}),
    ...(proto !== undefined ? { proto } : {}),
    // main means "no policy table" (system_is_default_rt_table).
    ...(ip6table !== undefined && ip6table !== RT_TABLE_MAIN ? { ip6table } : {}),
    ...(ip4table !== undefined && ip4table !== RT_TABLE_MAIN ? { ip4table } : {}),
    metric: s.num('metric') ?? 0,
    disabled: s.bool('disabled'),
    ...(proto === 'static' ? staticGateways(s) : {}),
  };
}

/** proto_static's gateway options (proto.c parse_gateway_option); a wrong family is a config error. */
function staticGateways(s: Section): { gateway4?: string; gateway6?: string } {
  const out: { gateway4?: string; gateway6?: string } = {};
  for (const [option, family, key] of [
    ['gateway', 4, 'gateway4'],
    ['ip6gw', 6, 'gateway6'],
  ] as const) {
    const text = s.str(option);
    if (text === undefined) continue;
    const gw = parseAddress(text);
    if (!gw || gw.family !== family) s.fail(option, `expected an IPv${family} address, got "${text}"`);
    // An all-zero gateway means none, as in a route section.
    if (gw.addr !== 0n) out[key] = formatAddress(family, gw.addr);
  }
  return out;
}

function parseMark(s: Section): { fwmark?: number; fwmask?: number } {
  const text = s.str('mark');
  if (text === undefined) return {};
  const [mark = '', mask] = text.split('/', 2);
  const fwmark = numberOf(mark);
  const fwmask = mask === undefined ? undefined : numberOf(mask);
  if (fwmark === undefined || (mask !== undefined && fwmask === undefined))
    s.fail('mark', `expected MARK[/MASK] like 0x1/0x1, got "${text}"`);
  return fwmask === undefined ? { fwmark } : { fwmark, fwmask };
}

/** Selectors netifd sends that @meshwan/netlink cannot (FRA_UID_RANGE, FRA_IP_PROTO, FRA_SPORT_RANGE, FRA_DPORT_RANGE). */
const unsendable = ['uidrange', 'ipproto', 'sport', 'dport'];

function parseRule(s: Section, family: IpFamily, order: number, names: TableNames): RuleConfig {
  const nlFamily = family;
  /** ADDR[/LEN] in netlink's canonical text, host bits kept (the kernel keeps them in rules: `to 2001:db8::5/64`). */
  const prefix = (option: string): { address: string; length: number } | undefined => {
    const text = s.str(option);
    if (text === undefined) return undefined;
    const p = parsePrefix(text, family);
    const bytes = parseIp(text.split('/', 1)[0] ?? '');
    if (!p || !bytes) return s.fail(option, `expected an IPv${family} address or prefix, got "${text}"`);
    return { address: formatIp(bytes), length: p.len };
  };
  for (const option of unsendable)
    if (s.str(option) !== undefined)
      s.fail(option, 'not supported: @meshwan/netlink cannot send this selector, so the rule cannot be made');
  const tos = s.num('tos');
  if (tos !== undefined && tos > 255) s.fail('tos', `expected 0..255, got ${tos}`);
  const table = s.table('lookup', names);
  const actionText = s.str('action');
  let action: RuleAction = 'nop';
  if (actionText !== undefined) action = ruleActions[actionText] ?? s.fail('action', `unknown action "${actionText}"`);
  const gotoTarget = s.num('goto');
  // system_iprule: an explicit action wins, then goto, then lookup; none of them makes a nop rule.
  if (actionText === undefined) action = gotoTarget !== undefined ? 'goto' : table !== undefined ? 'lookup' : 'nop';
  const src = prefix('src');
  const dst = prefix('dest');
  const suppressPrefixLength = s.num('suppress_prefixlength');
  const inIface = s.str('in');
  const outIface = s.str('out');
  const rule = newRule({
    family: nlFamily,
    priority: s.num('priority') ?? order,
    action,
    invert: s.bool('invert'),
    tos: tos ?? 0,
    table: action === 'lookup' ? (table ?? 0) : 0,
    ...parseMark(s),
    ...(src !== undefined ? { src: src.address, srcLength: src.length } : {}),
    ...(dst !== undefined ? { dst: dst.address, dstLength: dst.length } : {}),
    ...(gotoTarget !== undefined ? { goto: gotoTarget } : {}),
    ...(suppressPrefixLength !== undefined ? { suppressPrefixLength } : {}),
  });
  return {
    section: s.input.name,
    ...(inIface !== undefined ? { in: inIface } : {}),
    ...(outIface !== undefined ? { out: outIface } : {}),
    rule,
  };
}

function parseRoute(s: Section, family: IpFamily, names: TableNames): RouteConfig {
  const bits = family === 4 ? 32 : 128;
  let len = bits;
  const netmask = s.str('netmask');
  if (netmask !== undefined) {
    const m = parsePrefix(`${family === 4 ? '0.0.0.0' : '::'}/${netmask}`, family);
    len = m?.len ?? s.fail('netmask', `expected a netmask, got "${netmask}"`);
  }
  const targetText = s.str('target') ?? (family === 4 ? '0.0.0.0' : '::');
  const target = parsePrefix(targetText.includes('/') ? targetText : `${targetText}/${len}`, family);
  if (!target) s.fail('target', `expected an IPv${family} address or prefix, got "${targetText}"`);
  const gwText = s.str('gateway');
  let gateway: string | undefined;
  if (gwText !== undefined) {
    const gw = parseAddress(gwText);
    if (!gw || gw.family !== family) s.fail('gateway', `expected an IPv${family} address, got "${gwText}"`);
    // system_rt: an all-zero gateway (Gluon's `gateway '::'`) means no gateway. Canonical text, as a dump has it.
    const bytes = parseIp(gwText);
    if (gw.addr !== 0n && bytes) gateway = formatIp(bytes);
  }
  const typeText = s.str('type');
  let type: RouteType | undefined;
  if (typeText !== undefined) {
    if (!(routeTypes as readonly string[]).includes(typeText)) s.fail('type', `unknown route type "${typeText}"`);
    type = typeText as RouteType;
  }
  const sourceText = s.str('source');
  const source =
    sourceText === undefined ? undefined : (parsePrefix(sourceText, family) ?? s.fail('source', `expected a prefix, got "${sourceText}"`));
  const protoText = s.str('proto');
  const proto =
    protoText === undefined
      ? undefined
      : (numberOf(protoText) ?? routeProtos[protoText] ?? s.fail('proto', `unknown protocol "${protoText}"`));
  let table = s.table('table', names);
  if (table === RT_TABLE_MAIN) table = undefined;
  const ifaceText = s.str('interface');
  const metric = s.num('metric');
  const mtu = s.num('mtu');
  return {
    section: s.input.name,
    family,
    interface: ifaceText ?? 'loopback',
    noDevice: ifaceText === undefined,
    target: network(target),
    onlink: s.bool('onlink'),
    ...(gateway !== undefined ? { gateway } : {}),
    ...(metric !== undefined ? { metric } : {}),
    ...(table !== undefined ? { table } : {}),
    ...(type !== undefined ? { type } : {}),
    ...(source !== undefined ? { source } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
    ...(proto !== undefined ? { proto } : {}),
  };
}

/** Parses the sections of the network package. `file` names the file in errors. */
export function parseNetwork(
  sections: readonly UciSectionInput[],
  file = '/etc/config/network',
  names: TableNames = new Map(),
): NetworkConfig {
  const byName = new Map(sections.filter((s) => s.type === 'interface').map((s) => [s.name, s]));
  const interfaces = new Map<string, InterfaceConfig>();
  const rules: RuleConfig[] = [];
  const routes: RouteConfig[] = [];
  const ipv6Devices = new Set<string>();
  const errors: ConfigError[] = [];
  // iprule_update_start resets both counters to 1; iprule_add takes one per enabled section, even a bad one.
  const counter: Record<IpFamily, number> = { 4: 1, 6: 1 };
  for (const input of sections) {
    const s = new Section(file, input);
    try {
      switch (input.type) {
        case 'interface':
          interfaces.set(input.name, parseInterface(s, byName, names));
          break;
        case 'rule':
        case 'rule6': {
          const family: IpFamily = input.type === 'rule' ? 4 : 6;
          if (s.bool('disabled')) break;
          const order = counter[family]++;
          rules.push(parseRule(s, family, order, names));
          break;
        }
        case 'route':
        case 'route6':
          if (s.bool('disabled')) break;
          routes.push(parseRoute(s, input.type === 'route' ? 4 : 6, names));
          break;
        case 'device': {
          const name = s.str('name');
          // A later section for the same device overrides an earlier one, as in netifd's device_create.
          if (name !== undefined && s.input.options.ipv6 !== undefined) {
            if (s.bool('ipv6')) ipv6Devices.add(name);
            else ipv6Devices.delete(name);
          }
          break;
        }
      }
    } catch (err: unknown) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push(err);
    }
  }
  return { interfaces, rules, routes, ipv6Devices, errors };
}
