/**
 * The site's values as a node holds them at run time: in uci, never in site.ini. The upgrade scripts write them
 * (site.ini → /etc/config), the daemons read them here, so data flows one way. The WAN mark, mask and table are
 * netifd's own: the `rule6 wan6_lookup` section of /etc/config/network (Gluon's name and spelling), so the gate
 * and netifd's rule can never disagree. Values OpenWrt has no home for live in /etc/config/meshwan, in sections
 * named after site.ini's: `mesh_vpn` (group, gid), `wan_dns` (listen list, cache_size), `firewall` (backend).
 * Read through a Uci context, so staged changes count, as they do for netifd and procd's config_load. An
 * absent option is Gluon's default (as site.ini's); a present but bad one throws SettingsError.
 */
import { sectionsIfPresent, type Uci } from '@meshwan/uci';
import type { Endpoint } from './endpoints.js';
import { SettingsError } from './errors.js';
import { type FieldSpec, type FirewallBackend, fields, type Site } from './schema.js';
import { defaultSite } from './site.js';

/** The uci package of the values OpenWrt has no home for. */
export const SETTINGS_PACKAGE = 'meshwan';
/** netifd's rule that sends marked packets to the WAN table (Gluon's 110-network writes it under this name). */
export const WAN_RULE = 'wan6_lookup';

/** What the daemons need of the site at run time (site.ini's keys but the static DNS servers, which are the user's). */
export interface NodeSettings {
  readonly wan: Site['wan'];
  readonly meshVpn: Site['meshVpn'];
  readonly wanDns: { readonly listen: readonly Endpoint[]; readonly cacheSize: number };
  readonly firewall: { readonly backend: FirewallBackend };
}

type Value = string | readonly string[] | undefined;

function parseAll<T>(uci: Uci, pkg: string, option: string, spec: FieldSpec<T>, value: Value): T[] | undefined {
  if (value === undefined) return undefined;
  const texts = typeof value === 'string' ? [value] : value;
  return texts.map((text) => {
    const parsed = spec.parse(text);
    if (!parsed.ok) throw new SettingsError(`${uci.confdir}/${pkg}`, option, parsed.reason);
    return parsed.value;
  });
}

function parseOne<T>(uci: Uci, pkg: string, option: string, spec: FieldSpec<T>, value: Value, fallback: T): T {
  if (value !== undefined && typeof value !== 'string')
    throw new SettingsError(`${uci.confdir}/${pkg}`, option, 'expected an option, not a list');
  return parseAll(uci, pkg, option, spec, value)?.[0] ?? fallback;
}

function optionsOf(uci: Uci, pkg: string, section: string): Readonly<Record<string, Value>> {
  return sectionsIfPresent(uci, pkg)?.find((s) => s.name === section)?.options ?? {};
}

/** The WAN split from netifd's rule: `option mark 'MARK/MASK'` (mask default 0xffffffff, iprule_parse_mark) and `option lookup`. */
function readWan(uci: Uci): Site['wan'] {
  const defaults = defaultSite().wan;
  const rule = optionsOf(uci, 'network', WAN_RULE);
  const markText = rule.mark;
  let mark = defaults.mark;
  let mask = defaults.mask;
  if (markText !== undefined) {
    if (typeof markText !== 'string')
      throw new SettingsError(`${uci.confdir}/${'network'}`, `${WAN_RULE}.mark`, 'expected an option, not a list');
    const [m, k, extra] = markText.split('/');
    if (extra !== undefined)
      throw new SettingsError(`${uci.confdir}/${'network'}`, `${WAN_RULE}.mark`, `expected MARK[/MASK], got ${JSON.stringify(markText)}`);
    mark = parseOne(uci, 'network', `${WAN_RULE}.mark`, fields.wanMark, m, mark);
    mask = k === undefined ? 0xffffffff : parseOne(uci, 'network', `${WAN_RULE}.mark`, fields.wanMask, k, mask);
    if ((mark & ~mask) >>> 0 !== 0)
      throw new SettingsError(
        `${uci.confdir}/${'network'}`,
        `${WAN_RULE}.mark`,
        `mark 0x${mark.toString(16)} has bits outside mask 0x${mask.toString(16)}`,
      );
  }
  const table = parseOne(uci, 'network', `${WAN_RULE}.lookup`, fields.wanTable, rule.lookup, defaults.table);
  return { mark, mask, table };
}

/**
 * Reads the node's settings from a Uci context (use `openConfig({ root })`). Throws SettingsError naming the
 * file and option of a bad value, UciParseError for a config that does not parse.
 */
export function readSettings(uci: Uci): NodeSettings {
  const defaults = defaultSite();
  const p = SETTINGS_PACKAGE;
  const vpn = optionsOf(uci, p, 'mesh_vpn');
  const dns = optionsOf(uci, p, 'wan_dns');
  const fw = optionsOf(uci, p, 'firewall');
  return {
    wan: readWan(uci),
    meshVpn: {
      group: parseOne(uci, p, 'mesh_vpn.group', fields.vpnGroup, vpn.group, defaults.meshVpn.group),
      gid: parseOne(uci, p, 'mesh_vpn.gid', fields.vpnGid, vpn.gid, defaults.meshVpn.gid),
    },
    wanDns: {
      listen: parseAll(uci, p, 'wan_dns.listen', fields.dnsListen, dns.listen) ?? defaults.wanDns.listen,
      cacheSize: parseOne(uci, p, 'wan_dns.cache_size', fields.dnsCacheSize, dns.cache_size, defaults.wanDns.cacheSize),
    },
    firewall: { backend: parseOne(uci, p, 'firewall.backend', fields.firewallBackend, fw.backend, defaults.firewall.backend) },
  };
}
