/**
 * Drift made by hand, as a person at a shell would, and independent witnesses that it is there or gone: `ip` for
 * rules and routes, nft or iptables-save for the VPN group's DNS redirect (whichever backend meshwan chose).
 */
import type { Namespace } from '../../lib/netns.js';

export const unreachable = (ns: Namespace): boolean =>
  /unreachable default .*metric 65535/.test(ns.ip('-6', 'route', 'show', 'table', '1'));
export const fwmarkRule = (ns: Namespace): boolean => /fwmark 0x1\/0x1 lookup 1/.test(ns.ip('-6', 'rule', 'show'));

function nftRedirect(ns: Namespace): boolean {
  const nft = ns.try('nft', 'list', 'table', 'inet', 'meshwan');
  return nft.status === 0 && /dnat|redirect/i.test(nft.stdout);
}

/** Whether the redirect is hooked in: nft `table inet meshwan` with a dnat, or iptables and ip6tables jumps to meshwan_*. */
export function redirectPresent(ns: Namespace): boolean {
  if (nftRedirect(ns)) return true;
  return ['iptables', 'ip6tables'].every((tool) => /-j meshwan_/.test(ns.exec(tool, '-w', '-t', 'nat', '-S', 'OUTPUT')));
}

/** Removes the redirect: the rules of nft's table, or the jumps into meshwan's chains. Returns what it did. */
export function removeRedirect(ns: Namespace): string {
  if (nftRedirect(ns)) {
    ns.exec('nft', 'flush', 'table', 'inet', 'meshwan');
    return 'nft flush table inet meshwan';
  }
  const done: string[] = [];
  for (const tool of ['iptables', 'ip6tables']) {
    for (const line of ns.exec(tool, '-w', '-t', 'nat', '-S', 'OUTPUT').split('\n')) {
      if (!/-j meshwan_/.test(line)) continue;
      const del = line.replace(/^-A /, '-D ');
      ns.exec(tool, '-w', '-t', 'nat', ...del.split(' '));
      done.push(`${tool} -t nat ${del}`);
    }
  }
  if (done.length === 0) throw new Error('no meshwan redirect found in nft or iptables');
  return done.join('; ');
}
