/**
 * meshwan's own ruleset: the mesh-VPN group's DNS goes to the WAN forwarder. Gluon does this with one rule
 * (`-I OUTPUT -m owner --gid-owner gluon-mesh-vpn -o lo -d 127.0.0.1 -p udp --dport 53 -j DNAT --to-destination :54`,
 * package/gluon-wan-dnsmasq); we also cover TCP, IPv6 and every destination, so a resolver the daemon picks by
 * itself cannot leak around the forwarder. DNAT to 127.0.0.1 in nat OUTPUT needs no route_localnet: the packet
 * never leaves the host. The original destination needs some route (even unreachable-free default) or the
 * packet is dropped before nat OUTPUT sees it.
 */
import type { IpFamily } from '@meshwan/os';
import type { Rule, Ruleset } from './types.js';

export interface DnsRedirectOptions {
  /** The group whose sockets are redirected (gluon-mesh-vpn: 800). */
  readonly gid: number;
  /** The forwarder's port (wan-dns: 54). */
  readonly port?: number;
  readonly ipv4?: string;
  readonly ipv6?: string;
  /** Also match the group as a supplementary group (iptables only; nft sees the primary gid). */
  readonly supplGroups?: boolean;
}

export function dnsRedirectRules(options: DnsRedirectOptions): Rule[] {
  const port = options.port ?? 54;
  const to: Record<IpFamily, string> = { 4: options.ipv4 ?? '127.0.0.1', 6: options.ipv6 ?? '::1' };
  const owner = { gid: options.gid, ...(options.supplGroups ? { supplGroups: true } : {}) };
  return ([4, 6] as const).flatMap((family) =>
    (['udp', 'tcp'] as const).map(
      (protocol): Rule => ({
        family,
        table: 'nat',
        chain: 'OUTPUT',
        match: { protocol, destinationPort: 53, owner },
        target: { type: 'DNAT', address: to[family], port },
        comment: 'dns-redirect',
      }),
    ),
  );
}

/** DNAT of gid's UDP and TCP port-53 traffic, IPv4 and IPv6, any destination, to [ipv4]:port and [ipv6]:port (nat OUTPUT). */
export function dnsRedirectRuleset(options: DnsRedirectOptions): Ruleset {
  return { rules: dnsRedirectRules(options) };
}
