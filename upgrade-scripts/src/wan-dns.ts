/**
 * /etc/config/gluon-wan-dnsmasq, Gluon's file and format: one `config static` whose `server` list, when not
 * empty, replaces the WAN's DHCP/RA servers (wan-dns and Gluon's update.lua read the first `static` section).
 * The site's servers seed the list only when the user has none: the list is the user's afterwards.
 */
import { type Endpoint, formatEndpoint, type Site } from '@meshwan/site';
import type { Edit, SectionView } from './config.js';

/** Port 53 is left out, so the entry reads as Gluon's (`list server '192.0.2.53'`) and dnsmasq-era tools still parse it. */
function serverText(e: Endpoint): string {
  return e.port === 53 ? `${e.address}${e.scope === undefined ? '' : `%${e.scope}`}` : formatEndpoint(e);
}

export function planWanDns(sections: readonly SectionView[], site: Site): Edit[] {
  const servers = site.wanDns.servers.map(serverText);
  const first = sections.find((s) => s.type === 'static');
  if (first === undefined) return [{ op: 'add', type: 'static', options: servers.length > 0 ? { server: servers } : {} }];
  if (servers.length > 0 && first.options.server === undefined)
    return [{ op: 'set', section: first.name, option: 'server', value: servers }];
  return [];
}
