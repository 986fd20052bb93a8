/**
 * /etc/config/network → the parts netifd turns into rules and routes: interfaces (device, ip6table, ip4table,
 * metric), `rule`/`rule6` sections (netifd iprule.c iprule_add) and `route`/`route6` sections (interface-ip.c
 * interface_ip_add_route). Pure. Like netifd, a bad section is skipped, but here it is also reported.
 */
import { readUnsigned } from '@meshwan/uci';
import { ConfigError } from './errors.js';
import { type Family, network, type Prefix, parseAddress, parsePrefix } from './ip.js';
import { type RouteType, RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN, type RuleAction } from './model.js';
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
}

interface RuleConfig {
  readonly section: string;
  readonly family: Family;
  /** The explicit priority, else netifd's counter (1, 2, … per family in file order). */
  readonly priority: number;
  readonly action: RuleAction;
  readonly table?: number;
  readonly goto?: number;
  readonly invert: boolean;
  readonly src?: Prefix;
  readonly dst?: Prefix;
  /** Interface names (not devices): the rule exists only while that interface is up. */
  readonly in?: string;
  readonly out?: string;
  readonly tos?: number;
  readonly fwmark?: number;
  readonly fwmask?: number;
  readonly suppressPrefixlen?: number;
  readonly uidrange?: readonly [number, number];
  readonly ipproto?: number;
  readonly sport?: readonly [number, number];
  readonly dport?: readonly [number, number];
}

interface RouteConfig {
  readonly section: string;
  readonly family: Family;
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

function range(text: string): readonly [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!m?.[1]) return undefined;
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

const protocols: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, ipv6: 41, icmpv6: 58, 'ipv6-icmp': 58, sctp: 132 };
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
  };
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

function parseRule(s: Section, family: Family, order: number, names: TableNames): RuleConfig {
  const prefix = (option: string): Prefix | undefined => {
    const text = s.str(option);
    if (text === undefined) return undefined;
    return parsePrefix(text, family) ?? s.fail(option, `expected an IPv${family} address or prefix, got "${text}"`);
  };
  const ranged = (option: string): readonly [number, number] | undefined => {
    const text = s.str(option);
    if (text === undefined) return undefined;
    return range(text) ?? s.fail(option, `expected N or N-M, got "${text}"`);
  };
  const tos = s.num('tos');
  if (tos !== undefined && tos > 255) s.fail('tos', `expected 0..255, got ${tos}`);
  const table = s.table('lookup', names);
  const actionText = s.str('action');
  let action: RuleAction = 'nop';
  if (actionText !== undefined) action = ruleActions[actionText] ?? s.fail('action', `unknown action "${actionText}"`);
  const gotoTarget = s.num('goto');
  // system_iprule: an explicit action wins, then goto, then lookup; none of them makes a nop rule.
  if (actionText === undefined) action = gotoTarget !== undefined ? 'goto' : table !== undefined ? 'lookup' : 'nop';
  let ipproto: number | undefined;
  const ipprotoText = s.str('ipproto');
  if (ipprotoText !== undefined)
    ipproto = numberOf(ipprotoText) ?? protocols[ipprotoText] ?? s.fail('ipproto', `unknown protocol "${ipprotoText}"`);
  const optional = {
    src: prefix('src'),
    dst: prefix('dest'),
    in: s.str('in'),
    out: s.str('out'),
    tos,
    ...parseMark(s),
    table: action === 'lookup' ? table : undefined,
    goto: gotoTarget,
    suppressPrefixlen: s.num('suppress_prefixlength'),
    uidrange: ranged('uidrange'),
    ipproto,
    sport: ranged('sport'),
    dport: ranged('dport'),
  };
  const rule: Record<string, unknown> = {
    section: s.input.name,
    family,
    priority: s.num('priority') ?? order,
    action,
    invert: s.bool('invert'),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) rule[k] = v;
  return rule as unknown as RuleConfig;
}

function parseRoute(s: Section, family: Family, names: TableNames): RouteConfig {
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
    // system_rt: an all-zero gateway (Gluon's `gateway '::'`) means no gateway.
    if (gw.addr !== 0n) gateway = gwText;
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
  const route: Record<string, unknown> = {
    section: s.input.name,
    family,
    interface: ifaceText ?? 'loopback',
    noDevice: ifaceText === undefined,
    target: network(target),
    onlink: s.bool('onlink'),
  };
  const optional = { gateway, metric: s.num('metric'), table, type, source, mtu: s.num('mtu'), proto };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) route[k] = v;
  return route as unknown as RouteConfig;
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
  const counter: Record<Family, number> = { 4: 1, 6: 1 };
  for (const input of sections) {
    const s = new Section(file, input);
    try {
      switch (input.type) {
        case 'interface':
          interfaces.set(input.name, parseInterface(s, byName, names));
          break;
        case 'rule':
        case 'rule6': {
          const family: Family = input.type === 'rule' ? 4 : 6;
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
