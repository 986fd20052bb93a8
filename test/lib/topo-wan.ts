/**
 * The node's WAN client, standing in for what netifd, udhcpc and odhcp6c do on OpenWrt: addresses on wan0 and the
 * WAN routes in the WAN table (netifd's ip4table/ip6table: the address gets noprefixroute and the prefix route and
 * the default route go to that table), or in main when no table is given. DNS servers learnt from DHCP and RA are
 * written to one resolv file (`nameserver` lines, as Gluon's wan-dnsmasq update script writes
 * /var/gluon/wan-dnsmasq/resolv.conf), atomically (temp, rename).
 * The kernel's own RA handling is switched off on wan0 (accept_ra=0), as OpenWrt does: it would put the RA default
 * route into main, which is exactly the leak the split forbids.
 */

import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@meshwan/uci';
import { type Namespace, stopProcess, type Teardowns, waitFor } from './netns.js';

export interface WanClientOptions {
  dev: string;
  /** netifd: OpenWrt's real netifd configures the addresses and routes (static config; the sim's --netifd=real). */
  mode: 'static' | 'dhcp' | 'netifd';
  v4: boolean;
  v6: boolean;
  /** Table for IPv4 WAN routes (netifd ip4table); undefined: main. */
  table4: number | undefined;
  /** Table for IPv6 WAN routes (netifd ip6table); undefined: main. */
  table6: number | undefined;
  /** Where the WAN DNS servers are written. */
  resolvFile: string;
  /** Static mode: the DNS servers to write (setStaticDns changes them). */
  staticDns: readonly string[];
  /** Scratch directory for udhcpc's script and lease state. */
  stateDir: string;
}

export interface WanClient {
  /** The node's WAN addresses now configured (without prefix length). */
  readonly addresses: { v4?: string; v6?: string };
  /** Configures addresses, routes and the resolv file (netifd's ifup). */
  up(): Promise<void>;
  /** Asks for a renewal (DHCP renew, new router solicitation) and rewrites the resolv file from what comes back. */
  renew(): Promise<void>;
  /** The DNS servers last written to the resolv file. */
  dnsServers(): string[];
  /** Static mode: writes other DNS servers to the resolv file (a user editing a static WAN). */
  setStaticDns(servers: readonly string[]): void;
  stop(): Promise<void>;
}

const udhcpcScript = `#!/bin/sh
# udhcpc event script (busybox): writes what the lease says to $MW_STATE/dhcp4 (one key=value a line) and configures
# the address and routes the way netifd does for an interface with ip4table set (table main when MW_TABLE4 is empty).
case "$1" in
deconfig)
  ip -4 addr flush dev "$interface"
  ;;
bound|renew)
  if [ -n "$MW_TABLE4" ]; then
    ip -4 addr replace "$ip/$mask" dev "$interface" noprefixroute
    ip -4 route replace "$MW_NET4" dev "$interface" proto kernel scope link src "$ip" table "$MW_TABLE4"
    ip -4 route replace default via "$router" dev "$interface" onlink table "$MW_TABLE4"
  else
    ip -4 addr replace "$ip/$mask" dev "$interface"
    ip -4 route replace "$MW_NET4" dev "$interface" proto kernel scope link src "$ip"
    ip -4 route replace default via "$router" dev "$interface" onlink metric 10
  fi
  printf 'ip=%s\\nrouter=%s\\ndns=%s\\nserial=%s\\n' "$ip" "$router" "$dns" "$(date +%s%N)" > "$MW_STATE/dhcp4.tmp"
  mv "$MW_STATE/dhcp4.tmp" "$MW_STATE/dhcp4"
  ;;
esac
exit 0
`;

// Default routes carry `onlink`: whoever moves WAN routes between tables (meshwan daemon) may have moved the
// prefix route a moment earlier, and the gateway must not need it.

/** Parses `rdisc6` output: the first prefix, the RDNSS servers and the router's address. */
export function parseRdisc6(text: string): { prefix?: string; rdnss: string[]; router?: string } {
  const prefix = /^\s*Prefix\s*:\s*(\S+)/m.exec(text)?.[1];
  const rdnss = [...text.matchAll(/^\s*Recursive DNS server\s*:\s*(\S+)/gm)].map((m) => m[1] ?? '').filter((s) => s !== '');
  const router = /^\s*from\s+(\S+)/m.exec(text)?.[1];
  return { prefix, rdnss, router };
}

function table(t: number | undefined): string[] {
  return t === undefined ? [] : ['table', String(t)];
}

export function createWanClient(t: Teardowns, node: Namespace, o: WanClientOptions): WanClient {
  const addresses: { v4?: string; v6?: string } = {};
  let dns4: string[] = [];
  let dns6: string[] = [];
  let udhcpc: ChildProcess | undefined;
  let staticDns = [...o.staticDns];
  node.sysctl(`net.ipv6.conf.${o.dev}.accept_ra`, '0');
  node.sysctl(`net.ipv6.conf.${o.dev}.autoconf`, '0');
  // No DAD wait for the link-local address after every link up (rdisc6 cannot send from a tentative address).
  node.sysctl(`net.ipv6.conf.${o.dev}.accept_dad`, '0');
  const writeResolv = (): void => {
    const servers = o.mode === 'dhcp' ? [...dns4, ...dns6] : staticDns;
    writeFileAtomic(o.resolvFile, servers.map((s) => `nameserver ${s}\n`).join(''));
  };
  const dhcp4File = join(o.stateDir, 'dhcp4');
  const readDhcp4 = (): Record<string, string> => {
    try {
      return Object.fromEntries(
        readFileSync(dhcp4File, 'utf8')
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    } catch {
      return {};
    }
  };
  const solicit = async (): Promise<void> => {
    // The link-local address must exist before a router solicitation can be sent.
    await waitFor(`link-local address on ${o.dev}`, () =>
      node.ip('-6', 'addr', 'show', 'dev', o.dev, 'scope', 'link', '-tentative').includes('fe80'),
    );
    const ra = parseRdisc6(node.exec('rdisc6', '-1', '-r', '5', '-w', '1000', o.dev));
    if (ra.prefix === undefined || ra.router === undefined) throw new Error(`no usable RA on ${o.dev}`);
    const [net, len] = ra.prefix.split('/');
    addresses.v6 = `${net}100`;
    node.ip('-6', 'addr', 'replace', `${addresses.v6}/${len}`, 'dev', o.dev, 'nodad', ...(o.table6 === undefined ? [] : ['noprefixroute']));
    node.ip('-6', 'route', 'replace', ra.prefix, 'dev', o.dev, 'proto', 'kernel', ...table(o.table6));
    node.ip('-6', 'route', 'replace', 'default', 'via', ra.router, 'dev', o.dev, 'proto', 'ra', ...table(o.table6));
    dns6 = ra.rdnss;
  };
  const dhcpRenew = async (first: boolean): Promise<void> => {
    const before = readDhcp4().serial;
    if (first || udhcpc === undefined || udhcpc.exitCode !== null) {
      writeFileSync(join(o.stateDir, 'udhcpc.sh'), udhcpcScript, { mode: 0o755 });
      udhcpc = node.spawn(
        t,
        'busybox',
        ['udhcpc', '-f', '-i', o.dev, '-s', join(o.stateDir, 'udhcpc.sh'), '-t', '20', '-T', '1', '-A', '1'],
        {
          stdio: 'ignore',
          env: { ...process.env, MW_STATE: o.stateDir, MW_TABLE4: o.table4 === undefined ? '' : String(o.table4), MW_NET4: '192.0.2.0/24' },
        },
      );
    } else {
      udhcpc.kill('SIGUSR1'); // busybox udhcpc: SIGUSR1 renews the lease
    }
    await waitFor(`DHCPv4 lease on ${o.dev}`, () => {
      const s = readDhcp4().serial;
      return s !== undefined && s !== before;
    });
    const lease = readDhcp4();
    addresses.v4 = lease.ip;
    dns4 = (lease.dns ?? '').split(/\s+/).filter((s) => s !== '');
  };
  const staticUp = (): void => {
    if (o.v4) {
      addresses.v4 = '192.0.2.2';
      if (o.table4 === undefined) {
        node.ip('addr', 'replace', '192.0.2.2/24', 'dev', o.dev);
        // The prefix route explicitly too: `addr replace` of an existing address does not bring back a deleted one.
        node.ip('route', 'replace', '192.0.2.0/24', 'dev', o.dev, 'proto', 'kernel', 'scope', 'link', 'src', '192.0.2.2');
        node.ip('route', 'replace', 'default', 'via', '192.0.2.1', 'dev', o.dev, 'onlink', 'metric', '10');
      } else {
        node.ip('addr', 'replace', '192.0.2.2/24', 'dev', o.dev, 'noprefixroute');
        node.ip(
          'route',
          'replace',
          '192.0.2.0/24',
          'dev',
          o.dev,
          'proto',
          'kernel',
          'scope',
          'link',
          'src',
          '192.0.2.2',
          ...table(o.table4),
        );
        node.ip('route', 'replace', 'default', 'via', '192.0.2.1', 'dev', o.dev, 'onlink', ...table(o.table4));
      }
    }
    if (o.v6) {
      addresses.v6 = '2001:db8:1::2';
      node.ip('-6', 'addr', 'replace', '2001:db8:1::2/64', 'dev', o.dev, 'nodad', ...(o.table6 === undefined ? [] : ['noprefixroute']));
      node.ip('-6', 'route', 'replace', '2001:db8:1::/64', 'dev', o.dev, 'proto', 'kernel', ...table(o.table6));
      node.ip('-6', 'route', 'replace', 'default', 'via', 'fe80::1', 'dev', o.dev, ...table(o.table6));
    }
  };
  return {
    addresses,
    async up() {
      if (o.mode === 'static') staticUp();
      else if (o.mode === 'netifd') {
        // The addresses netifd's static config gives (NETIFD_WAN): netifd sets them, and re-sets them on link up.
        if (o.v4) addresses.v4 = '192.0.2.2';
        if (o.v6) addresses.v6 = '2001:db8:1::2';
      } else {
        if (o.v4) await dhcpRenew(udhcpc === undefined);
        if (o.v6) await solicit();
      }
      writeResolv();
    },
    async renew() {
      if (o.mode === 'dhcp') {
        if (o.v4) await dhcpRenew(false);
        if (o.v6) await solicit();
      }
      writeResolv();
    },
    dnsServers() {
      return o.mode === 'dhcp' ? [...dns4, ...dns6] : [...staticDns];
    },
    setStaticDns(servers) {
      staticDns = [...servers];
      writeResolv();
    },
    async stop() {
      if (udhcpc) await stopProcess(udhcpc);
    },
  };
}
