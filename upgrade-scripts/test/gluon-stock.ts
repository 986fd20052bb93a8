/**
 * What stock Gluon's upgrade scripts write to /etc/config, replayed through @meshwan/uci (freifunk-gluon/gluon
 * e67619430, v2025.1 era; OpenWrt 24.10): the fixture of a stock Gluon node (OpenWrt's own firewall and dhcp
 * from /work/shared/uci-configs with Gluon's edits on top), and the model of what Gluon does again when a node
 * goes back from meshwan (its Lua cannot run here). Each edit names Gluon's file and lines. simple-uci's
 * `section(config, type, name, values)` is `set config.name=type` then one set per value (true is '1'); an empty
 * list removes the option.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Uci } from '@meshwan/uci';
import { fixtures } from './lib.js';

type Values = Readonly<Record<string, string | readonly string[]>>;

function section(uci: Uci, pkg: string, type: string, name: string, values: Values): void {
  uci.set(pkg, name, type);
  for (const [option, value] of Object.entries(values)) {
    if (typeof value === 'string') {
      uci.set(pkg, name, option, value);
      continue;
    }
    if (uci.get(pkg, name, option) !== undefined) uci.delete(pkg, name, option);
    for (const item of value) uci.addList(pkg, name, option, item);
  }
}

function openRoot(root: string): Uci {
  // libuci's uci_save makes its save dir; ours expects it (a node has /tmp).
  mkdirSync(join(root, 'tmp/.uci'), { recursive: true, mode: 0o700 });
  return new Uci({ confdir: join(root, 'etc/config'), savedir: join(root, 'tmp/.uci'), conf2dir: null });
}

/** The site.conf values Gluon's scripts read (site.dns, site.next_node), from the documentation ranges. */
const gluonSite = {
  dnsServers: ['2001:db8:1::53'],
  cacheEntries: '4096',
  nextNode: { names: ['nextnode.ffx'], ip4: '198.51.100.254', ip6: '2001:db8:1::254' },
} as const;

/** Gluon's edits of /etc/config/firewall, committed. */
export function gluonFirewall(root: string, wiredMesh: readonly string[] = []): void {
  const uci = openRoot(root);
  const p = 'firewall';
  // gluon-core 110-network:80-96
  section(uci, p, 'rule', 'wan_igmp', { name: 'Allow-IGMP', src: 'wan', proto: 'igmp', family: 'ipv4', target: 'ACCEPT' });
  section(uci, p, 'rule', 'wan_mld', {
    name: 'Allow-MLD',
    src: 'wan',
    proto: 'icmp',
    src_ip: 'fe80::/10',
    icmp_type: ['130/0', '131/0', '132/0', '143/0'],
    family: 'ipv6',
    target: 'ACCEPT',
  });
  // gluon-core 300-firewall-rules:5-6, 8-25
  const defaults = uci.sections(p, 'defaults')[0];
  if (defaults !== undefined) uci.set(p, defaults.name, 'input', 'REJECT');
  for (const zone of uci.sections(p, 'zone')) {
    if (zone.options.name !== 'wan') continue;
    section(uci, p, 'zone', zone.name, { input: 'REJECT', conntrack: '1', network: ['wan', 'wan6', 'cellular', 'cellular_4'] });
  }
  // 300-firewall-rules:27-61
  for (const zone of ['mesh', 'loc_client', 'wired_mesh']) {
    section(uci, p, 'zone', zone, { name: zone, network: [], input: 'REJECT', output: 'ACCEPT', forward: 'REJECT' });
    section(uci, p, 'rule', `${zone}_ICMPv6_in`, {
      src: zone,
      proto: 'icmp',
      icmp_type: [
        'echo-request',
        'echo-reply',
        'destination-unreachable',
        'packet-too-big',
        'time-exceeded',
        'bad-header',
        'unknown-header-type',
        'router-solicitation',
        'neighbour-solicitation',
        'router-advertisement',
        'neighbour-advertisement',
        '130/0',
        '131/0',
        '132/0',
        '143/0',
      ],
      limit: '1000/sec',
      family: 'ipv6',
      target: 'ACCEPT',
    });
  }
  // 300-firewall-rules:63-71, 74-82
  section(uci, p, 'rule', 'loc_client_ICMPv4_in', {
    src: 'loc_client',
    proto: 'icmp',
    icmp_type: ['echo-request'],
    family: 'ipv4',
    target: 'ACCEPT',
  });
  for (const zone of ['wan', 'loc_client', 'mesh']) {
    section(uci, p, 'rule', `${zone}_ssh`, { name: `${zone}_ssh`, src: zone, dest_port: '22', proto: 'tcp', target: 'ACCEPT' });
  }
  // 300-firewall-rules:85-96 (the gluon_wired interfaces but mesh_uplink), 99-110
  section(uci, p, 'zone', 'wired_mesh', { network: wiredMesh });
  for (const zone of ['wired_mesh', 'wan']) {
    section(uci, p, 'rule', `${zone}_vxlan`, {
      name: `${zone}_vxlan`,
      src: zone,
      family: 'ipv6',
      src_ip: 'fe80::/64',
      proto: 'udp',
      dest_port: '4789',
      target: 'ACCEPT',
    });
    uci.reorder(p, `${zone}_vxlan`, 0);
  }
  // gluon-mesh-vpn-core 500-mesh-vpn:25-31
  section(uci, p, 'include', 'mesh_vpn_dns', { type: 'restore', path: '/lib/gluon/mesh-vpn/iptables.rules', family: 'ipv4' });
  // 820-dns-config:32-41
  // simple-uci's delete of a missing section is a no-op; libuci's is an error.
  if (uci.get(p, 'client_dns') !== undefined) uci.delete(p, 'client_dns');
  section(uci, p, 'rule', 'client_dns', { src: 'loc_client', dest_port: '53', proto: 'tcpudp', target: 'ACCEPT' });
  uci.commit(p);
}

/** Gluon's edits of /etc/config/dhcp (gluon-core 820-dns-config), committed. */
export function gluonDhcp(root: string): void {
  const uci = openRoot(root);
  const p = 'dhcp';
  const dnsmasq = uci.sections(p, 'dnsmasq')[0]?.name;
  if (dnsmasq === undefined) throw new Error('dhcp has no dnsmasq section');
  // 820-dns-config:21-30 (the full dnsmasq variant: cachesize from site.dns.cacheentries)
  uci.set(p, dnsmasq, 'localise_queries', '1');
  uci.set(p, dnsmasq, 'localservice', '0');
  section(uci, p, 'dnsmasq', dnsmasq, { server: gluonSite.dnsServers });
  uci.set(p, dnsmasq, 'cachesize', gluonSite.cacheEntries);
  // 820-dns-config:51-58
  for (const s of uci.sections(p, 'domain')) if (/^nextnode[46]/.test(s.name)) uci.delete(p, s.name);
  gluonSite.nextNode.names.forEach((name, i) => {
    section(uci, p, 'domain', `nextnode4_${i + 1}`, { name, ip: gluonSite.nextNode.ip4 });
    section(uci, p, 'domain', `nextnode6_${i + 1}`, { name, ip: gluonSite.nextNode.ip6 });
  });
  uci.commit(p);
}

/**
 * Gluon's network on its next boot: 001-reset-uci:17-18,29-30 moves the file to network_gluon-old and runs
 * config_generate, Gluon's scripts build the fixture's sections again, and 110-network:21-61 carries only wan's
 * proto, ipaddr, netmask, gateway and wan6's proto, ip6addr, ip6gw from the old file (the upgrade case:
 * sysconfig.gluon_version is set). 998-commit:9 then deletes network_gluon-old.
 */
export function gluonNetwork(root: string): void {
  const old = openRoot(root).sections('network');
  writeFileSync(join(root, 'etc/config/network'), readFileSync(join(fixtures, 'stock-gluon/network'), 'utf8'));
  const uci = openRoot(root);
  const carried: Record<string, readonly string[]> = {
    wan: ['proto', 'ipaddr', 'netmask', 'gateway'],
    wan6: ['proto', 'ip6addr', 'ip6gw'],
  };
  for (const [name, keys] of Object.entries(carried)) {
    const section = old.find((s) => s.name === name);
    for (const key of keys) {
      const value = section?.options[key];
      if (typeof value === 'string') uci.set('network', name, key, value);
    }
  }
  uci.commit('network');
}
