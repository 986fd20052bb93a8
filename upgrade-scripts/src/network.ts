/**
 * The network end state (Gluon's 110-network, package/gluon-core): `wan` and `wan6` without peer DNS, wan6's
 * routes in the WAN table, `rule6 wan6_lookup` sending marked packets there and `route6 wan6_unreachable`
 * closing it (metric 65535) so a marked packet never falls through to main when the WAN is down.
 * Pure: sections in, edits out. Mark, mask and table come from the site file.
 */
import type { Site } from '@meshwan/site';
import { type Edit, findSection, ownSection, type SectionView, shareSection, type Value } from './config.js';
import { formatMark, parseMark, parseNumber } from './marks.js';

/** Options of wan/wan6 a user sets, carried over from network_gluon-old (Gluon keeps proto and addresses). */
const wanCarried = ['proto', 'ipaddr', 'netmask', 'gateway', 'broadcast', 'dns', 'macaddr', 'mtu'];
const wan6Carried = ['proto', 'ip6addr', 'ip6gw', 'ip6prefix', 'dns'];

function carried(old: readonly SectionView[] | undefined, name: string, keys: readonly string[]): Record<string, Value> {
  const section = old === undefined ? undefined : findSection(old, name);
  const out: Record<string, Value> = {};
  if (section === undefined) return out;
  for (const key of keys) {
    const value = section.options[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** A rule6 that says exactly "marked packets look up the WAN table", under another name: a duplicate. */
function isDuplicateRule(section: SectionView, site: Site): boolean {
  if (section.type !== 'rule6' || section.name === 'wan6_lookup') return false;
  const { mark, lookup, ...rest } = section.options;
  if (typeof mark !== 'string' || typeof lookup !== 'string') return false;
  if (Object.keys(rest).some((k) => k !== 'priority')) return false;
  const parsed = parseMark(mark);
  return parsed?.mark === site.wan.mark && parsed.mask === site.wan.mask && parseNumber(lookup) === site.wan.table;
}

/** A route6 that is "unreachable ::/0 in the WAN table", under another name: a duplicate. */
function isDuplicateRoute(section: SectionView, site: Site): boolean {
  if (section.type !== 'route6' || section.name === 'wan6_unreachable') return false;
  const allowed = new Set(['type', 'interface', 'target', 'gateway', 'table', 'metric']);
  if (Object.keys(section.options).some((k) => !allowed.has(k))) return false;
  const { type, target, table } = section.options;
  return (
    type === 'unreachable' &&
    (target === '::/0' || target === '::0/0') &&
    typeof table === 'string' &&
    parseNumber(table) === site.wan.table
  );
}

/**
 * Edits that bring `network` to its end state. `old` is network_gluon-old when Gluon's 001-reset-uci moved the
 * user's config away and generated a fresh one: then the user's WAN settings come from there, as in Gluon.
 */
export function planNetwork(sections: readonly SectionView[], old: readonly SectionView[] | undefined, site: Site): Edit[] {
  const edits: Edit[] = [];
  // route6 wan6_unreachable names `interface loopback`: netifd installs it only while that interface exists.
  if (findSection(sections, 'loopback') === undefined) {
    edits.push(
      ...shareSection(sections, 'loopback', 'interface', {}, { device: 'lo', proto: 'static', ipaddr: '127.0.0.1', netmask: '255.0.0.0' }),
    );
  }
  // peerdns 0: the WAN's DNS servers must not reach the mesh clients' resolver; wan-dns uses them (Gluon #1884).
  edits.push(...shareSection(sections, 'wan', 'interface', { ...carried(old, 'wan', wanCarried), peerdns: '0' }, { proto: 'dhcp' }));
  const wan6 = findSection(sections, 'wan6');
  const wan6Device: Record<string, Value> =
    wan6?.options.device !== undefined || wan6?.options.ifname !== undefined ? {} : { device: '@wan' };
  edits.push(
    ...shareSection(
      sections,
      'wan6',
      'interface',
      // ip6table: DHCPv6 and RA routes of wan6 go to the WAN table, never main; sourcefilter 0 so the default
      // route there is not limited to the delegated prefix; no prefix request (the mesh has its own prefixes).
      { ...carried(old, 'wan6', wan6Carried), peerdns: '0', ip6table: String(site.wan.table), sourcefilter: '0', reqprefix: 'no' },
      { proto: 'dhcpv6', ...wan6Device },
    ),
  );
  edits.push(
    ...ownSection(sections, 'wan6_lookup', 'rule6', { mark: formatMark(site.wan.mark, site.wan.mask), lookup: String(site.wan.table) }),
  );
  edits.push(
    ...ownSection(sections, 'wan6_unreachable', 'route6', {
      type: 'unreachable',
      interface: 'loopback',
      target: '::/0',
      gateway: '::',
      table: String(site.wan.table),
      metric: '65535',
    }),
  );
  for (const section of sections) {
    if (isDuplicateRule(section, site) || isDuplicateRoute(section, site)) edits.push({ op: 'delete', section: section.name });
  }
  return edits;
}
