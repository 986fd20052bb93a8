/**
 * A Gluon-like node in network namespaces for the CLI tests: `node` has br-wan (a veth to `uplink`, the
 * volunteer's home network, 2001:db8:1::/64 and 192.0.2.0/24) and mesh0 (a veth to `mesh`, fd00:1::/64 and
 * 198.51.100.0/24), and a staged root with the network config 110-network writes. The built CLI runs inside
 * `node` through `ip netns exec`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGluonNode } from '../../../../test/lib/gluon-node.js';
import type { Namespace, Teardowns } from '../../../../test/lib/netns.js';

export const meshwanBin = new URL('../../bin/meshwan.js', import.meta.url).pathname;

/** IPv6's split as Gluon's 110-network writes it: the fwmark rule to table 1 and table 1's unreachable floor. */
export const ipv6SplitSections = `config rule6 'wan6_lookup'
	option mark '0x01/0x01'
	option lookup '1'

config route6 'wan6_unreachable'
	option type 'unreachable'
	option interface 'loopback'
	option target '::/0'
	option gateway '::'
	option table '1'
	option metric '65535'
`;

export const gluonNetworkText = `config interface 'loopback'
	option ifname 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config interface 'wan'
	option ifname 'wan0'
	option type 'bridge'
	option proto 'dhcp'
	option peerdns '0'

config interface 'wan6'
	option ifname 'br-wan'
	option proto 'dhcpv6'
	option peerdns '0'
	option ip6table '1'
	option sourcefilter '0'
	option reqprefix 'no'

config interface 'mesh'
	option device 'mesh0'
	option proto 'static'

${ipv6SplitSections}`;

/** IPv4's split as OpenWrt writes it: the fwmark rule to table 1 and table 1's unreachable floor. */
export const ipv4SplitSections = `config rule 'wan_lookup'
	option mark '0x01/0x01'
	option lookup '1'

config route 'wan_unreachable'
	option type 'unreachable'
	option interface 'loopback'
	option target '0.0.0.0/0'
	option table '1'
	option metric '65535'
`;

/** The Gluon config with IPv4 split too (ip4table, `config rule`, `config route`): both families move to table 1. */
export const dualNetworkText = `${gluonNetworkText.replace("option peerdns '0'\n\n", "option peerdns '0'\n\toption ip4table '1'\n\n")}
${ipv4SplitSections}`;

export interface TestNode {
  readonly node: Namespace;
  readonly uplink: Namespace;
  readonly mesh: Namespace;
  readonly root: string;
}

/** A staged meshwan root (`--root`) whose etc/config/network is `networkText`. */
export function stageRoot(t: Teardowns, networkText: string, prefix = 'meshwan-policy-'): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc/config'), { recursive: true });
  writeFileSync(join(root, 'etc/config/network'), networkText);
  return root;
}

export function createNode(t: Teardowns, networkText = gluonNetworkText): TestNode {
  const root = stageRoot(t, networkText);
  // What DHCPv6/RA would give the WAN: a default route in main, which meshwan must move to table 1.
  const { node, mesh, wan } = createGluonNode(t, {
    mesh: { label: 'mesh', dev: 'mesh0', peerDev: 'peer0', nets: ['fd00:1::/64', '198.51.100.0/24'], node: 5, peer: 1 },
    wans: [{ label: 'up', dev: 'br-wan', peerDev: 'home0', nets: ['2001:db8:1::/64', '192.0.2.0/24'], node: 5, peer: 1, route: {} }],
  });
  return { node, uplink: wan, mesh, root };
}

/** Environment for the CLI (the settings come from the node root's uci, never from a site file). */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS_UNUSED;
  return env;
}

export function meshwan(n: TestNode, args: readonly string[], env: Record<string, string> = {}) {
  const r = spawnSync('ip', ['netns', 'exec', n.node.name, process.execPath, meshwanBin, ...args, '--root', n.root], {
    encoding: 'utf8',
    env: cliEnv(env),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `ip -6 route get` in the node; the route line, or the error text when the kernel refuses. */
export function routeGet(n: TestNode, ...args: string[]): string {
  const r = n.node.try('ip', ...args.slice(0, 1), 'route', 'get', ...args.slice(1));
  return r.status === 0 ? r.stdout.trim() : r.stderr.trim();
}
