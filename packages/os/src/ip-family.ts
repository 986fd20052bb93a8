/**
 * The address family, spelled one way in every package: 4 or 6. The kernel's AF_INET/AF_INET6 numbers live only in
 * @meshwan/netlink's codec, and the firewall tools' words (iptables/ip6tables, nft's ip/ip6) only in
 * @meshwan/iptables-wrapper's rendering.
 */
export type IpFamily = 4 | 6;
