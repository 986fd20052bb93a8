/**
 * The ISP side of the topology: a router handing out addresses by DHCPv4 and RA (dnsmasq from dnsmasq-base, no DNS
 * port, its own pid and lease files, stopped by PID), naming the WAN DNS servers in DHCP option 6 and in the RA's
 * RDNSS option (RFC 8106). Changing the announced servers restarts dnsmasq with the new options (the lease file
 * keeps the node's address), as an ISP router reconfigured under a running client.
 */

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Namespace, stopProcess, type Teardowns, waitFor } from './netns.js';

export interface DhcpServerOptions {
  dev: string;
  /** Announce IPv4 by DHCP (range .100-.200 of 192.0.2.0/24, router 192.0.2.1). */
  v4: boolean;
  /** Announce 2001:db8:1::/64 by RA (SLAAC, no DHCPv6), with RDNSS. */
  v6: boolean;
  dns4: readonly string[];
  dns6: readonly string[];
}

export interface DhcpServer {
  /** Restarts dnsmasq announcing other DNS servers; clients see them on their next renew or solicitation. */
  setDnsServers(dns4: readonly string[], dns6: readonly string[]): Promise<void>;
  stop(): Promise<void>;
  /** The running dnsmasq's PID (for --keep's cleanup line). */
  pid(): number | undefined;
}

function dnsmasqArgs(dir: string, o: DhcpServerOptions): string[] {
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--user=root',
    '--group=root',
    '--port=0',
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`,
    `--interface=${o.dev}`,
    '--bind-interfaces',
    // dnsmasq pings an address before offering it and waits 3 s for silence; on a fresh veth nobody can answer.
    '--no-ping',
    `--log-facility=${join(dir, 'dnsmasq.log')}`,
  ];
  if (o.v4) {
    args.push('--dhcp-range=192.0.2.100,192.0.2.200,255.255.255.0,1h', '--dhcp-option=option:router,192.0.2.1');
    if (o.dns4.length > 0) args.push(`--dhcp-option=option:dns-server,${o.dns4.join(',')}`);
  }
  if (o.v6) {
    // ra-only: SLAAC and RDNSS, no DHCPv6 (Gluon's wan6 is proto dhcpv6 with reqprefix no; RA alone serves the test).
    args.push('--enable-ra', '--dhcp-range=2001:db8:1::,ra-only,64', `--ra-param=${o.dev},10`);
    if (o.dns6.length > 0) args.push(`--dhcp-option=option6:dns-server,${o.dns6.map((a) => `[${a}]`).join(',')}`);
  }
  return args;
}

export async function startDhcpServer(t: Teardowns, ns: Namespace, options: DhcpServerOptions, parent = tmpdir()): Promise<DhcpServer> {
  const dir = mkdtempSync(join(parent, 'meshwan-dnsmasq-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let current = options;
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    // Logs go to a file, not a pipe: a kept simulation (make sim ARGS=--keep) outlives this process.
    const log = join(dir, 'dnsmasq.log');
    writeFileSync(log, '');
    const c = ns.spawn(t, 'dnsmasq', dnsmasqArgs(dir, current), { stdio: 'ignore' });
    child = c;
    // dnsmasq logs "started" once its sockets are bound; a bad option makes it exit at once.
    await waitFor(`dnsmasq in ${ns.name}`, () => {
      if (c.exitCode !== null) throw new Error(`dnsmasq exited with ${c.exitCode}: ${readFileSync(log, 'utf8').trim()}`);
      return readFileSync(log, 'utf8').includes('started');
    });
  };
  await start();
  return {
    async setDnsServers(dns4, dns6) {
      if (child) await stopProcess(child);
      current = { ...current, dns4, dns6 };
      await start();
    },
    async stop() {
      if (child) await stopProcess(child);
    },
    pid: () => child?.pid,
  };
}
