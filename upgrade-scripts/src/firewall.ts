/**
 * The firewall hook for the VPN group's DNS redirect. The rules themselves are made by `meshwan apply` through
 * @meshwan/iptables-wrapper; this include makes fw3 and fw4 call it again whenever they rebuild their tables
 * (fw3 flushes the builtin chains on reload, which would drop our jump). `reload 1` is fw3's switch for "run on
 * reload too"; fw4 runs script includes only when they say `fw4_compatible 1`.
 * Gluon's own include (`mesh_vpn_dns`, a restore file of gluon-mesh-vpn-core catching only UDP to 127.0.0.1:53)
 * is left alone while its file exists, and deleted when it points to a file this firmware no longer has.
 */
import { type Edit, ownSection, type SectionView } from './config.js';

/** The include script in files/: it runs `meshwan apply --firewall-only`. */
export const firewallIncludePath = '/usr/lib/meshwan/firewall.include';

export function planFirewall(sections: readonly SectionView[], exists: (path: string) => boolean): Edit[] {
  const edits = ownSection(sections, 'meshwan_dns', 'include', {
    type: 'script',
    path: firewallIncludePath,
    reload: '1',
    fw4_compatible: '1',
  });
  const gluon = sections.find((s) => s.name === 'mesh_vpn_dns' && s.type === 'include');
  const path = gluon?.options.path;
  if (gluon !== undefined && typeof path === 'string' && !exists(path)) edits.push({ op: 'delete', section: gluon.name });
  return edits;
}
