// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The one builder of a Gluon node's surroundings in network namespaces, used by every suite that needs them
 * (policy, wan-dns, uplinks, lib-packetmark, test/e2e and `make sim` through topology.ts):
 *
 *   mesh ns ──── mesh dev [ node ns ] WAN dev ──── uplink ns (ISP or home router)   [ second WAN ──── second uplink ]
 *   lo: mesh servers                                lo: WAN servers (NSD), track targets
 *
 * Each side is one veth wire (`link` in netns.ts) with the addresses the suite gives, plus addresses on the far
 * end's loopback (servers off-link for the node, reached only by a route) and routes on either end; DNS servers on
 * those loopbacks come from test/lib/nsd.ts (startNsd with `ns: side`), captures from `capture`. `split` adds what Gluon's 110-network gives a node: `fwmark
 * 0x1/0x1 lookup 1` and table 1's unreachable floor (fail closed). Suites differ in addresses and device names,
 * not in how the node is built; what they add (a uci root, a daemon, config files) stays in their test/lib.
 * Duplicate address detection is off in every namespace: addresses and link-local gateways are usable at once.
 */

import { addAddress, createNamespace, link, type Namespace, type Teardowns } from './netns.js';
import { type Capture, startCapture } from './topo-capture.js';

export type { Capture } from './topo-capture.js';

/** A route on one end of a wire: `ip route add TO via VIA [table] [metric]` (IPv6 when `via` is). */
export interface RouteSpec {
  readonly to: string;
  readonly via: string;
  readonly table?: number;
  readonly metric?: number;
}

/** One side of the node: a namespace, and (with `dev`) the veth wire from the node to it. */
export interface SideSpec {
  /** The far namespace's label (netns.ts prefixes it with this run's unique prefix). */
  readonly label: string;
  /** The node's device on this wire; without it the namespace is created but not connected. */
  readonly dev?: string;
  /** The far end's device. */
  readonly peerDev?: string;
  /** The node end's addresses (CIDR). */
  readonly addresses?: readonly string[];
  /** The far end's addresses (CIDR). */
  readonly peerAddresses?: readonly string[];
  /** Addresses on the far namespace's loopback (CIDR): servers and targets reached only by a route. */
  readonly loopback?: readonly string[];
  /** Routes in the node through this side (e.g. the mesh default in main, the WAN default in table 1). */
  readonly routes?: readonly RouteSpec[];
  /** Routes in the far namespace (its way back to the node). */
  readonly peerRoutes?: readonly RouteSpec[];
  /** Taking the far port down cuts carrier instead of wiping its IPv6 addresses (a router's port pulled). */
  readonly keepAddrOnDown?: boolean;
}

export interface GluonNodeSpec {
  /** The node namespace's label (default 'node'). */
  readonly label?: string;
  readonly mesh: SideSpec;
  /** The WAN side(s): one uplink, or two (failover, multipath). */
  readonly wans: readonly [SideSpec, ...SideSpec[]];
  /** Sysctls of the node namespace, set before any wire exists (so `default` ones apply to its devices). */
  readonly sysctls?: Readonly<Record<string, string>>;
  /** Gluon's split: the fwmark rule to table 1 at `pref` and table 1's unreachable floor (metric 65535). */
  readonly split?: { readonly pref: number; readonly families: readonly (4 | 6)[]; readonly floor: boolean };
  /** Parent directory of the captures' temp dirs (default the system's). */
  readonly stateDir?: string;
}

export interface GluonNode {
  readonly node: Namespace;
  readonly mesh: Namespace;
  /** The first WAN side's namespace (the ISP or home router). */
  readonly wan: Namespace;
  /** The WAN sides' namespaces, in the order given. */
  readonly wans: readonly Namespace[];
  /** Starts a capture (test/lib/topo-capture.ts) on a device of the node, or of another namespace. */
  capture(dev: string, ns?: Namespace): Promise<Capture>;
}

function addRoute(ns: Namespace, r: RouteSpec): void {
  const family = r.via.includes(':') ? ['-6'] : [];
  const table = r.table === undefined ? [] : ['table', String(r.table)];
  const metric = r.metric === undefined ? [] : ['metric', String(r.metric)];
  ns.ip(...family, 'route', 'add', r.to, 'via', r.via, ...table, ...metric);
}

function buildSide(t: Teardowns, node: Namespace, side: SideSpec): Namespace {
  const far = createNamespace(t, side.label);
  far.sysctl('net.ipv6.conf.all.accept_dad', '0');
  far.sysctl('net.ipv6.conf.default.accept_dad', '0');
  if (side.dev !== undefined) {
    const peerDev = side.peerDev ?? `${side.dev}p`;
    link({ ns: node, dev: side.dev, addresses: side.addresses }, { ns: far, dev: peerDev, addresses: side.peerAddresses });
    if (side.keepAddrOnDown) far.sysctl(`net.ipv6.conf.${peerDev}.keep_addr_on_down`, '1');
  }
  for (const a of side.loopback ?? []) addAddress(far, 'lo', a);
  for (const r of side.routes ?? []) addRoute(node, r);
  for (const r of side.peerRoutes ?? []) addRoute(far, r);
  return far;
}

/** Builds the namespaces, wires, routes and split. */
export function createGluonNode(t: Teardowns, spec: GluonNodeSpec): GluonNode {
  const node = createNamespace(t, spec.label ?? 'node');
  const sysctls = { 'net.ipv6.conf.all.accept_dad': '0', 'net.ipv6.conf.default.accept_dad': '0', ...spec.sysctls };
  for (const [key, value] of Object.entries(sysctls)) node.sysctl(key, value);
  const mesh = buildSide(t, node, spec.mesh);
  const [first, ...more] = spec.wans;
  const wan = buildSide(t, node, first);
  const wans = [wan, ...more.map((side) => buildSide(t, node, side))];
  for (const family of spec.split?.families ?? []) {
    const f = family === 6 ? '-6' : '-4';
    node.ip(f, 'rule', 'add', 'pref', String(spec.split?.pref), 'fwmark', '0x1/0x1', 'lookup', '1');
    if (spec.split?.floor) node.ip(f, 'route', 'add', 'unreachable', 'default', 'metric', '65535', 'table', '1');
  }
  return { node, mesh, wan, wans, capture: (dev, ns = node) => startCapture(t, ns, dev, spec.stateDir) };
}
