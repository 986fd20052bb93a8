/**
 * What meshwan wants in the firewall, as @meshwan/iptables-wrapper data: the VPN group's DNS redirect (UDP and
 * TCP, IPv4 and IPv6, any destination) and the connmark rules that keep replies on the path their connection
 * came in on. Pure.
 */
import { dnsRedirectRules, type Rule as FwRule, type Ruleset } from '@meshwan/iptables-wrapper';
import type { NodeSettings } from '@meshwan/site';
import { backstopRules } from './backstop.js';
import type { NetworkConfig } from './network.js';
import { noUplinks, type UplinksView } from './uplinks.js';
import { wanDevicesByFamily } from './wan-devices.js';

/**
 * A connection that came in over the WAN must answer over it: its replies are generated unmarked (an ssh
 * server's socket has no mark), so the mark is kept in conntrack and restored onto them (mangle OUTPUT runs
 * before the reroute, net/ipv6/netfilter.c ip6_route_me_harder). A marked socket's packets save their mark
 * first, so that the restore cannot clear it on a connection meshwan never saw come in.
 */
function connmarkRules(network: NetworkConfig, site: NodeSettings): FwRule[] {
  const { mark, mask } = site.wan;
  const rules: FwRule[] = [];
  for (const [family, devs] of wanDevicesByFamily(network)) {
    for (const dev of devs) {
      rules.push({
        family,
        table: 'mangle',
        chain: 'PREROUTING',
        match: { inInterface: dev, ctState: ['NEW'] },
        target: { type: 'CONNMARK', op: 'set', value: mark, mask },
        comment: 'wan-connmark-set',
      });
      rules.push({
        family,
        table: 'mangle',
        chain: 'PREROUTING',
        match: { inInterface: dev },
        target: { type: 'CONNMARK', op: 'restore', mask },
        comment: 'wan-connmark-restore-in',
      });
    }
    rules.push({
      family,
      table: 'mangle',
      chain: 'OUTPUT',
      match: { mark: { value: mark, mask } },
      target: { type: 'CONNMARK', op: 'save', mask },
      comment: 'wan-connmark-save',
    });
    rules.push({
      family,
      table: 'mangle',
      chain: 'OUTPUT',
      target: { type: 'CONNMARK', op: 'restore', mask },
      comment: 'wan-connmark-restore',
    });
  }
  return rules;
}

/** The conntrack zone of the VPN group's DNS flows (original direction): 54, after the forwarder's port. */
const DNS_CONNTRACK_ZONE = 54;

/**
 * nat decides once per conntrack entry, and the entry is found by 5-tuple: a group query from the same source port
 * toward the same server as another process's recent query would join that process's un-NATed entry and leave
 * toward the mesh, and the other process's query could join a NATed group entry and reach the WAN forwarder
 * (both seen in the e2e SIGKILL scenario). Putting the group's DNS in its own zone (raw OUTPUT, before conntrack)
 * keeps the two apart; replies are still matched in the default zone (--zone-orig).
 */
function dnsZoneRules(gid: number): FwRule[] {
  return ([4, 6] as const).flatMap((family) =>
    (['udp', 'tcp'] as const).map(
      (protocol): FwRule => ({
        family,
        table: 'raw',
        chain: 'OUTPUT',
        match: { protocol, destinationPort: 53, owner: { gid } },
        target: { type: 'CT', zoneOrig: DNS_CONNTRACK_ZONE },
        comment: 'dns-redirect-zone',
      }),
    ),
  );
}

/** The filter chain that judges the TCP packets to port 53 that conntrack could not place in a live connection. */
const DNS_LATE_CHAIN = 'meshwan_dns_late';

/** Owner ids an xt_owner range may hold: (uid_t)-1 is no uid, and the kernel refuses a range that contains it. */
const ANY_OWNER: [number, number] = [0, 0xfffffffe];

/**
 * Defence in depth behind the zone: nat sees only a connection's first packet: a query of the group whose 5-tuple matches a live conntrack entry
 * of another process (same source port toward the same server within the UDP timeout) skips the DNAT and would
 * leave toward the mesh (seen in the e2e SIGKILL scenario). filter OUTPUT runs after nat OUTPUT and sees the
 * rewritten port, so whatever of the group is still aimed at port 53 there escaped the redirect: refuse it.
 *
 * The owner match cannot see a TCP connection's last packets (issue #17): once the client has called close(),
 * its orphaned socket (the last ACK, FIN retransmits), the TIME_WAIT answers and the RST for a segment that
 * finds no socket are all sent without an owning process. They miss the zone rule too, so conntrack looks them
 * up in the default zone, misses the group's NATed entry and picks them up as a new connection (a bare ACK,
 * loose pickup) or calls them INVALID (an RST): nat leaves them as addressed and they went to the mesh. Which
 * process they belong to is not known any more, so: a TCP packet to port 53 without an owner that conntrack
 * cannot place in a live connection of the default zone (NEW, INVALID, UNTRACKED) is dropped. Another process's
 * late packets find its own entry (ESTABLISHED) and still go out; the group's are lost, so the forwarder's side
 * of such a connection waits in LAST-ACK until its FIN retransmits give up.
 */
function dnsGuardRules(gid: number, port: number): FwRule[] {
  if (port === 53) return [];
  return ([4, 6] as const).flatMap((family): FwRule[] => [
    ...(['udp', 'tcp'] as const).map(
      (protocol): FwRule => ({
        family,
        table: 'filter',
        chain: 'OUTPUT',
        match: { protocol, destinationPort: 53, owner: { gid } },
        target: { type: 'REJECT' },
        comment: 'dns-redirect-guard',
      }),
    ),
    {
      family,
      table: 'filter',
      chain: 'OUTPUT',
      match: { protocol: 'tcp', destinationPort: 53, ctState: ['NEW', 'INVALID', 'UNTRACKED'] },
      target: { type: 'jump', chain: DNS_LATE_CHAIN },
      comment: 'dns-redirect-late',
    },
    // No owner match can say "no owner" on every backend (nft's meta skuid simply fails), so the owned return first.
    { family, table: 'filter', chain: DNS_LATE_CHAIN, match: { owner: { uid: ANY_OWNER } }, target: { type: 'RETURN' }, comment: 'owned' },
    // DROP, not REJECT: the sender is the kernel's TCP stack, there is nobody to tell.
    { family, table: 'filter', chain: DNS_LATE_CHAIN, target: { type: 'DROP' }, comment: 'ownerless' },
  ]);
}

/** The whole ruleset meshwan owns. */
export function firewallRuleset(network: NetworkConfig, site: NodeSettings, uplinks: UplinksView = noUplinks): Ruleset {
  const v4 = site.wanDns.listen.find((e) => e.family === 4);
  const v6 = site.wanDns.listen.find((e) => e.family === 6);
  const port = (v4 ?? v6)?.port ?? 54;
  const redirect = dnsRedirectRules({
    gid: site.meshVpn.gid,
    port,
    ...(v4 ? { ipv4: v4.address } : {}),
    ...(v6 ? { ipv6: v6.address } : {}),
  });
  return {
    rules: [
      ...dnsZoneRules(site.meshVpn.gid),
      ...redirect,
      ...dnsGuardRules(site.meshVpn.gid, port),
      ...connmarkRules(network, site),
      ...backstopRules(network, site, uplinks),
    ],
  };
}
