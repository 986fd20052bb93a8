/**
 * The site file's keys as data: section, key, type, default and what it means. The parser, the defaults and
 * site.example.ini's explanations all come from this one table, so they cannot drift apart.
 */
import { readUnsigned } from '@meshwan/uci';
import { type Endpoint, parseEndpoint } from './endpoints.js';

export type FirewallBackend = 'auto' | 'iptables' | 'nft';

/** The typed, validated site. Field names follow Gluon's where Gluon has one. */
export interface Site {
  readonly wan: {
    /** fwmark of packets that must use the WAN (Gluon: 0x1). */
    readonly mark: number;
    readonly mask: number;
    /** Routing table holding the WAN's routes (Gluon: 1). */
    readonly table: number;
  };
  readonly meshVpn: {
    /** Unix group of the mesh-VPN daemon (Gluon: gluon-mesh-vpn, gid 800). */
    readonly group: string;
    readonly gid: number;
  };
  readonly wanDns: {
    readonly listen: readonly Endpoint[];
    /** Forwarder cache entries; 0 disables the cache, as Gluon's --cache-size=0. */
    readonly cacheSize: number;
    /** Static upstream servers; empty means "from the WAN's DHCP and RA". */
    readonly servers: readonly Endpoint[];
  };
  readonly firewall: {
    readonly backend: FirewallBackend;
  };
}

/** Parses one raw string; returns the value or a reason naming what was expected and what was found. */
type FieldParser<T> = (raw: string) => { ok: true; value: T } | { ok: false; reason: string };

export interface FieldSpec<T> {
  readonly section: string;
  readonly key: string;
  readonly list: boolean;
  readonly parse: FieldParser<T>;
  /** Default as it would be written in site.ini, one entry per line for lists. */
  readonly defaultText: readonly string[];
  readonly describe: string;
}

const reservedTables = new Map([
  [0, 'unspec'],
  [253, 'default'],
  [254, 'main'],
  [255, 'local'],
]);

function integer(min: number, max: number, example: string): FieldParser<number> {
  return (raw) => {
    // @meshwan/uci's readUnsigned: strtoul(…, 0) over the whole text, as netifd reads marks and tables.
    const parsed = readUnsigned(raw, { min, max });
    if (parsed.ok) return parsed;
    return readUnsigned(raw, { max: Number.MAX_SAFE_INTEGER }).ok
      ? { ok: false, reason: `expected ${min} to ${max}, got ${JSON.stringify(raw)}` }
      : { ok: false, reason: `expected a number like ${example}, got ${JSON.stringify(raw)}` };
  };
}

const parseMark: FieldParser<number> = (raw) => {
  const parsed = integer(1, 0xffffffff, '0x1')(raw);
  if (!parsed.ok && /^\s*0+\s*$|^\s*0x0+\s*$/i.test(raw)) {
    return { ok: false, reason: 'a mark of 0 would match every unmarked packet: use a non-zero mark like 0x1' };
  }
  return parsed;
};

const parseTable: FieldParser<number> = (raw) => {
  const parsed = integer(0, 0xffffffff, '1')(raw);
  if (parsed.ok && reservedTables.has(parsed.value)) {
    return { ok: false, reason: `table ${parsed.value} is the kernel's "${reservedTables.get(parsed.value)}" table: pick another, like 1` };
  }
  return parsed;
};

const parseGroupName: FieldParser<string> = (raw) => {
  const text = raw.trim();
  return /^[a-z_][a-z0-9_-]{0,31}$/.test(text)
    ? { ok: true, value: text }
    : { ok: false, reason: `expected a Unix group name like gluon-mesh-vpn, got ${JSON.stringify(raw)}` };
};

function endpoint(defaultPort: number, allowScope: boolean): FieldParser<Endpoint> {
  return (raw) => {
    const parsed = parseEndpoint(raw, defaultPort);
    if (parsed.ok && parsed.value.scope !== undefined && !allowScope) {
      return { ok: false, reason: `a listen address takes no %interface, got ${JSON.stringify(raw)}` };
    }
    return parsed;
  };
}

const parseBackend: FieldParser<FirewallBackend> = (raw) => {
  const text = raw.trim();
  return text === 'auto' || text === 'iptables' || text === 'nft'
    ? { ok: true, value: text }
    : { ok: false, reason: `expected one of auto, iptables, nft, got ${JSON.stringify(raw)}` };
};

function field<T>(spec: FieldSpec<T>): FieldSpec<T> {
  return spec;
}

export const fields = {
  wanMark: field({
    section: 'wan',
    key: 'mark',
    list: false,
    parse: parseMark,
    defaultText: ['0x1'],
    describe: 'fwmark that sends a packet to the WAN table (rule "fwmark MARK/MASK lookup TABLE"). Gluon: 0x1.',
  }),
  wanMask: field({
    section: 'wan',
    key: 'mask',
    list: false,
    parse: integer(1, 0xffffffff, '0x1'),
    defaultText: ['0x1'],
    describe: 'Mask of the fwmark match; every bit of mark must be inside it. Gluon: 0x1.',
  }),
  wanTable: field({
    section: 'wan',
    key: 'table',
    list: false,
    parse: parseTable,
    defaultText: ['1'],
    describe: 'Routing table that holds the WAN routes (netifd ip6table/ip4table). Not 0, 253, 254 or 255. Gluon: 1.',
  }),
  vpnGroup: field({
    section: 'mesh_vpn',
    key: 'group',
    list: false,
    parse: parseGroupName,
    defaultText: ['gluon-mesh-vpn'],
    describe: "Unix group the mesh-VPN daemon runs in; this group's DNS is redirected to the WAN forwarder.",
  }),
  vpnGid: field({
    section: 'mesh_vpn',
    key: 'gid',
    list: false,
    parse: integer(1, 65534, '800'),
    defaultText: ['800'],
    describe: 'Numeric id of that group (Gluon: 800).',
  }),
  dnsListen: field({
    section: 'wan_dns',
    key: 'listen',
    list: true,
    parse: endpoint(54, false),
    defaultText: ['127.0.0.1:54', '[::1]:54'],
    describe: 'Addresses the WAN DNS forwarder listens on, one "listen[] = ADDR:PORT" line each.',
  }),
  dnsCacheSize: field({
    section: 'wan_dns',
    key: 'cache_size',
    list: false,
    parse: integer(0, 1_000_000, '0'),
    defaultText: ['0'],
    describe: "Forwarder cache entries. 0 (Gluon's --cache-size=0) disables the cache.",
  }),
  dnsServers: field({
    section: 'wan_dns',
    key: 'server',
    list: true,
    parse: endpoint(53, true),
    defaultText: [],
    describe: 'Static upstream DNS servers, one "server[] = ADDR[:PORT]" line each. None: use the WAN\'s DHCP/RA servers.',
  }),
  firewallBackend: field({
    section: 'firewall',
    key: 'backend',
    list: false,
    parse: parseBackend,
    defaultText: ['auto'],
    describe: 'auto (nft when fw4 or only nft is present, else iptables), iptables or nft.',
  }),
} as const;

export const fieldList: readonly FieldSpec<unknown>[] = Object.values(fields);
