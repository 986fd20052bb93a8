/**
 * /etc/config/meshwan: the site's run-time values that OpenWrt has no home for, in sections named after
 * site.ini's (`mesh_vpn`: group, gid; `wan_dns`: listen list, cache_size; `firewall`: backend). The daemons read
 * them there (@meshwan/site readSettings), never site.ini. The WAN mark, mask and table are not repeated here:
 * they live in netifd's own `rule6 wan6_lookup` (111-meshwan-network). Each section is meshwan's: the site
 * decides its values on every flash, as Gluon's upgrade scripts do for theirs.
 */
import { formatEndpoint, SETTINGS_PACKAGE, type Site } from '@meshwan/site';
import { type Edit, ownSection, type SectionView } from './config.js';

export { SETTINGS_PACKAGE };

export function planSettings(sections: readonly SectionView[], site: Site): Edit[] {
  return [
    ...ownSection(sections, 'mesh_vpn', 'mesh_vpn', { group: site.meshVpn.group, gid: String(site.meshVpn.gid) }),
    ...ownSection(sections, 'wan_dns', 'wan_dns', {
      listen: site.wanDns.listen.map(formatEndpoint),
      cache_size: String(site.wanDns.cacheSize),
    }),
    ...ownSection(sections, 'firewall', 'firewall', { backend: site.firewall.backend }),
  ];
}
