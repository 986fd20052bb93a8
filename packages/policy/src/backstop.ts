/**
 * The WAN backstop (issue #19): a firewall rule set that drops unmarked packets leaving a WAN device, so that the
 * split holds even while the routing rules are gone. netifd flushes every policy rule when it starts
 * (`/etc/init.d/network restart`), the gate with them, and re-adds its own (pref 10000 `from WANADDR lookup 1`,
 * gluon #520's leak path) before the daemon has put the gate back. The firewall is not netifd's: it holds through
 * the restart, and the daemon restores the gate behind it. Pure.
 *
 * filter OUTPUT and FORWARD jump to `meshwan_wan_out` for every packet routed out of a WAN device. It lets pass:
 * - marked packets (mark/mask of the split): the VPN daemon, wan-dns, and replies of connections that came in over
 *   the WAN (mangle OUTPUT restores their connmark before filter sees them; firewall.ts);
 * - the probes of @meshwan/uplinks (their own probe marks) on their uplink's device;
 * - what the link needs and main routes today, unmarked: IPv6 link-local and multicast destinations (DHCPv6,
 *   ND, MLD, replies to link-local peers; README "Link-local"), ICMPv6 that conntrack leaves untracked (neighbour
 *   discovery, also unicast to a global neighbour for reachability), IPv4 multicast and broadcast, and a DHCP
 *   client's unicast renewal (udp 68 → 67);
 * and drops the rest. Everything it drops is a packet the gate would have refused (unmarked packets may use main
 * only, which holds no global route of a WAN device).
 */

import type { Rule as FwRule } from '@meshwan/iptables-wrapper';
import type { IpFamily } from '@meshwan/os';
import type { NodeSettings } from '@meshwan/site';
import type { NetworkConfig } from './network.js';
import type { UplinksView } from './uplinks.js';
import { wanDevicesByFamily } from './wan-devices.js';

/** The filter chain every packet routed out of a WAN device passes. */
const BACKSTOP_CHAIN = 'meshwan_wan_out';

/** What may leave a WAN device unmarked, per family (see the module comment). */
function linkNeeds(family: IpFamily): FwRule[] {
  const pass = (match: FwRule['match'], comment: string): FwRule => ({
    family,
    table: 'filter',
    chain: BACKSTOP_CHAIN,
    ...(match !== undefined ? { match } : {}),
    target: { type: 'RETURN' },
    comment,
  });
  if (family === 6) {
    return [
      pass({ destination: 'fe80::/10' }, 'wan-link-local'),
      pass({ destination: 'ff00::/8' }, 'wan-multicast'),
      pass({ protocol: 'icmpv6', ctState: ['UNTRACKED'] }, 'wan-neighbour-discovery'),
    ];
  }
  return [
    pass({ destination: '224.0.0.0/4' }, 'wan-multicast'),
    pass({ destination: '255.255.255.255/32' }, 'wan-broadcast'),
    pass({ protocol: 'udp', sourcePort: 68, destinationPort: 67 }, 'wan-dhcp-renew'),
  ];
}

export function backstopRules(network: NetworkConfig, site: NodeSettings, uplinks: UplinksView): FwRule[] {
  const { mark, mask } = site.wan;
  const rules: FwRule[] = [];
  for (const [family, devs] of wanDevicesByFamily(network)) {
    for (const dev of devs) {
      for (const chain of ['OUTPUT', 'FORWARD'] as const) {
        rules.push({
          family,
          table: 'filter',
          chain,
          match: { outInterface: dev },
          target: { type: 'jump', chain: BACKSTOP_CHAIN },
          comment: 'wan-backstop',
        });
      }
    }
    const chainRule = (match: FwRule['match'], target: FwRule['target'], comment: string): FwRule => ({
      family,
      table: 'filter',
      chain: BACKSTOP_CHAIN,
      ...(match !== undefined ? { match } : {}),
      target,
      comment,
    });
    rules.push(chainRule({ mark: { value: mark, mask } }, { type: 'RETURN' }, 'wan-marked'));
    for (const u of uplinks.configured ? uplinks.uplinks : []) {
      if (u.family !== family) continue;
      rules.push(
        chainRule({ outInterface: u.device, mark: { value: u.probeMark, mask: u.probeMask } }, { type: 'RETURN' }, 'wan-uplink-probe'),
      );
    }
    rules.push(...linkNeeds(family));
    rules.push(chainRule(undefined, { type: 'DROP' }, 'wan-unmarked'));
  }
  return rules;
}
