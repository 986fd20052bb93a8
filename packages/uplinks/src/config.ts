/**
 * /etc/config/meshwan-uplinks → typed config. Names follow net/mwan3 (`config interface` with enabled, family,
 * track_ip, reliability, count, timeout, interval, up, down; `config member` with interface, metric, weight),
 * plus what mwan3 learns from netifd and we take from uci: device, gateway, dns_server. metric/weight may sit on
 * the interface itself; a member naming the interface overrides them. mwan3's defaults (interval 10 s, down 5)
 * fail over in a minute; ours (interval 0.5 s, timeout 0.5 s, down 2) fail over within 2 s of the first missed
 * probe window. Pure: sections in, config out; the uci shell is loadConfig.
 */
import type { IpFamily } from '@meshwan/os';
import { readUnsigned, sectionsIfPresent, type Uci } from '@meshwan/uci';
import { UplinksConfigError } from './errors.js';
import { checkQueryName, DNS_TYPES } from './query-name.js';

export const CONFIG_PACKAGE = 'meshwan-uplinks';

export interface UplinkConfig {
  readonly name: string;
  readonly enabled: boolean;
  readonly device: string;
  readonly family: IpFamily;
  /** undefined: learned from a default route on the device (netifd's), else a device-only route */
  readonly gateway: string | undefined;
  /** 'ping' (ICMP echo) or 'dns' (a query to the uplink's DNS server; mwan3 has no such method) */
  readonly trackMethod: TrackMethod;
  /** probe targets; empty means the gateway (ping) or the uplink's DNS servers (dns) */
  readonly trackIps: readonly string[];
  /** what a DNS probe asks (track_dns_name, track_dns_type) */
  readonly dnsName: string;
  readonly dnsType: number;
  readonly reliability: number;
  readonly count: number;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly up: number;
  readonly down: number;
  readonly metric: number;
  readonly weight: number;
  readonly dnsServers: readonly string[];
}

export type TrackMethod = 'ping' | 'dns';

export interface GlobalsConfig {
  /** WAN table; undefined = the lookup of netifd's WAN rule (network.wan6_lookup) */
  readonly table: number | undefined;
  /** metric of our defaults in the WAN table; must stay below the floor's 65535 */
  readonly metric: number;
  /** rtm_protocol on everything we add, so we only ever touch our own routes and rules */
  readonly protocol: number;
  /** mark bits for per-uplink probe marks (uplink i gets (i+1) << shift within the mask); must miss the WAN mask */
  readonly probeMask: number;
  readonly probeTableBase: number;
  readonly probePriority: number;
  readonly stateFile: string;
  readonly resolvFile: string;
}

export interface UplinksConfig {
  readonly file: string;
  readonly globals: GlobalsConfig;
  readonly uplinks: readonly UplinkConfig[];
}

/** A uci section as `Uci.sections()` gives it. */
export interface SectionLike {
  readonly name: string;
  readonly type: string;
  readonly options: Readonly<Record<string, string | readonly string[]>>;
}

/** rtm_protocol for routes and rules this package owns; policy uses 77 (RTPROT_MESHWAN), so 78 tells them apart. */
export const RTPROT_UPLINKS = 78;
/** rtm_protocol of the policy package (RTPROT_MESHWAN); ours must differ. */
const RTPROT_POLICY = 77;

export const defaultGlobals: GlobalsConfig = {
  table: undefined,
  metric: 10,
  protocol: RTPROT_UPLINKS,
  probeMask: 0xff00,
  probeTableBase: 200,
  // Below meshwan's gate (9000) so a probe-marked packet reaches its uplink's table; the probe mark misses the
  // WAN mask, so Gluon's `fwmark 0x1/0x1 lookup 1` (pref 1) never sees it.
  probePriority: 8900,
  stateFile: '/etc/meshwan/uplinks-last-good.json',
  resolvFile: '/var/gluon/wan-dnsmasq/resolv.conf',
};

class Reader {
  constructor(
    private readonly file: string,
    private readonly s: SectionLike,
  ) {}
  fail(option: string, reason: string): never {
    throw new UplinksConfigError(this.file, this.s.name, option, reason);
  }
  str(option: string): string | undefined {
    const v = this.s.options[option];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(option, 'expected a single value, got a list');
    return v;
  }
  list(option: string): string[] {
    const v = this.s.options[option];
    if (v === undefined) return [];
    return typeof v === 'string' ? v.split(/\s+/).filter((x) => x !== '') : [...v];
  }
  int(option: string, fallback: number, min: number, max: number): number {
    const v = this.str(option);
    if (v === undefined) return fallback;
    // strtoul(…, 0) over the whole text, as netifd reads its numbers: "010" is 8 (octal).
    const n = readUnsigned(v, { min, max });
    return n.ok ? n.value : this.fail(option, `expected an integer ${min}..${max}, got "${v}"`);
  }
  /** seconds as mwan3 writes them, decimals allowed ('0.5'); returned in ms */
  seconds(option: string, fallbackMs: number): number {
    const v = this.str(option);
    if (v === undefined) return fallbackMs;
    if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= 0 || Number(v) > 3600) this.fail(option, `expected seconds like 1 or 0.5, got "${v}"`);
    return Math.round(Number(v) * 1000);
  }
  bool(option: string, fallback: boolean): boolean {
    const v = this.str(option);
    if (v === undefined) return fallback;
    if (['1', 'yes', 'on', 'true', 'enabled'].includes(v)) return true;
    if (['0', 'no', 'off', 'false', 'disabled'].includes(v)) return false;
    return this.fail(option, `expected a boolean (1/0), got "${v}"`);
  }
}

function ipFamily(ip: string): IpFamily | undefined {
  if (/^[0-9a-f:.]+$/i.test(ip) && ip.includes(':')) return 6;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return 4;
  return undefined;
}

function readUplink(file: string, s: SectionLike, member: SectionLike | undefined): UplinkConfig {
  const r: Reader = new Reader(file, s);
  const device = r.str('device');
  if (device === undefined || device === '') r.fail('device', 'missing: the uplink needs its Linux device (e.g. eth1)');
  const familyText = r.str('family') ?? 'ipv6';
  const family: IpFamily =
    familyText === 'ipv4' ? 4 : familyText === 'ipv6' ? 6 : r.fail('family', `expected ipv4 or ipv6, got "${familyText}"`);
  const checkIp = (option: string, ip: string): string => {
    if (ipFamily(ip) !== family) r.fail(option, `expected an ${familyText} address, got "${ip}"`);
    return ip;
  };
  const gateway = r.str('gateway');
  // mwan3 also knows arping, httping and nping; those are not implemented, and a silently ignored method would lie.
  const method = r.str('track_method') ?? 'ping';
  if (method !== 'ping' && method !== 'dns') r.fail('track_method', `expected ping or dns, got "${method}"`);
  const dnsName = r.str('track_dns_name') ?? '.';
  const badName = checkQueryName(dnsName);
  if (badName !== undefined) r.fail('track_dns_name', `${badName}, got "${dnsName}"`);
  const typeText = (r.str('track_dns_type') ?? 'NS').toUpperCase();
  const dnsType = DNS_TYPES[typeText] ?? (/^\d+$/.test(typeText) ? Number(typeText) : Number.NaN);
  if (!(dnsType >= 1 && dnsType <= 65535)) {
    r.fail('track_dns_type', `expected ${Object.keys(DNS_TYPES).join(', ')} or a number 1..65535, got "${typeText}"`);
  }
  const m = member ? new Reader(file, member) : undefined;
  const metric = m?.int('metric', Number.NaN, 1, 256) ?? Number.NaN;
  const weight = m?.int('weight', Number.NaN, 1, 256) ?? Number.NaN;
  return {
    name: s.name,
    enabled: r.bool('enabled', true),
    device,
    family,
    gateway: gateway === undefined ? undefined : checkIp('gateway', gateway),
    trackMethod: method,
    trackIps: r.list('track_ip').map((ip) => checkIp('track_ip', ip)),
    dnsName,
    dnsType,
    reliability: r.int('reliability', 1, 1, 100),
    count: r.int('count', 1, 1, 10),
    timeoutMs: r.seconds('timeout', 500),
    intervalMs: r.seconds('interval', 500),
    up: r.int('up', 3, 1, 100),
    down: r.int('down', 2, 1, 100),
    metric: Number.isNaN(metric) ? r.int('metric', 1, 1, 256) : metric,
    // 1..256: the kernel stores weight - 1 in rtnh_hops (one byte).
    weight: Number.isNaN(weight) ? r.int('weight', 1, 1, 256) : weight,
    dnsServers: r.list('dns_server').map((ip) => checkIp('dns_server', ip)),
  };
}

/** Builds the config from uci sections; throws UplinksConfigError naming section and option. */
export function parseConfig(sections: readonly SectionLike[], file = `/etc/config/${CONFIG_PACKAGE}`): UplinksConfig {
  const g = sections.find((s) => s.type === 'globals');
  let globals = defaultGlobals;
  if (g) {
    const r = new Reader(file, g);
    const tableText = r.str('table');
    globals = {
      table: tableText === undefined ? undefined : r.int('table', 1, 1, 0xfffffffe),
      metric: r.int('metric', defaultGlobals.metric, 0, 65534),
      protocol: r.int('protocol', defaultGlobals.protocol, 5, 255),
      probeMask: r.int('probe_mask', defaultGlobals.probeMask, 1, 0xffffffff),
      probeTableBase: r.int('probe_table_base', defaultGlobals.probeTableBase, 2, 0xfffffff0),
      probePriority: r.int('probe_priority', defaultGlobals.probePriority, 1, 0xfffffffe),
      stateFile: r.str('state_file') ?? defaultGlobals.stateFile,
      resolvFile: r.str('resolv_file') ?? defaultGlobals.resolvFile,
    };
    // Ownership is by protocol: sharing policy's (77, RTPROT_MESHWAN) would let each delete the other's objects.
    if (globals.protocol === RTPROT_POLICY) r.fail('protocol', `${RTPROT_POLICY} is the policy package's (meshwan); pick another`);
  }
  const members = new Map<string, SectionLike>();
  for (const s of sections.filter((x) => x.type === 'member')) {
    const iface = new Reader(file, s).str('interface');
    if (iface === undefined) throw new UplinksConfigError(file, s.name, 'interface', 'missing: a member names its interface');
    if (!sections.some((x) => x.type === 'interface' && x.name === iface)) {
      throw new UplinksConfigError(file, s.name, 'interface', `no config interface '${iface}'`);
    }
    members.set(iface, s);
  }
  const uplinks = sections.filter((s) => s.type === 'interface').map((s) => readUplink(file, s, members.get(s.name)));
  const shift = Math.log2(globals.probeMask & -globals.probeMask);
  const capacity = Math.floor(globals.probeMask / 2 ** shift);
  if (uplinks.length > capacity) {
    throw new UplinksConfigError(
      file,
      g?.name ?? 'globals',
      'probe_mask',
      `${uplinks.length} uplinks need more probe marks than 0x${globals.probeMask.toString(16)} holds`,
    );
  }
  return { file, globals, uplinks };
}

/** The probe fwmark and mask of the i-th uplink (0-based): (i+1) in the low bits of probe_mask. */
export function probeMark(globals: GlobalsConfig, index: number): { mark: number; mask: number } {
  const shift = Math.log2(globals.probeMask & -globals.probeMask);
  return { mark: ((index + 1) * 2 ** shift) >>> 0, mask: globals.probeMask >>> 0 };
}

/**
 * Reads meshwan-uplinks through a Uci context (`openConfig({ root })`: the committed file plus its staged
 * changes, as netifd and procd see them). A missing file is an empty config.
 */
export function loadConfig(uci: Uci): UplinksConfig {
  return parseConfig(sectionsIfPresent(uci, CONFIG_PACKAGE) ?? [], `${uci.confdir.replace(/\/+$/, '')}/${CONFIG_PACKAGE}`);
}
