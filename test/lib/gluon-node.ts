// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The one builder of a Gluon node's surroundings in network namespaces, used by every suite that needs them
 * (policy, wan-dns, uplinks, lib-packetmark, test/e2e and `make sim` through topology.ts):
 *
 *   mesh ns ──── mesh dev [ node ns ] WAN dev ──── uplink ns (ISP or home router)   [ second WAN ──── second uplink ]
 *   lo: mesh servers                                lo: WAN servers (NSD), track targets
 *
 * Each side is one veth wire (`link` in netns.ts) on the networks the suite gives (the node end and the far end
 * are host numbers on each of them), plus addresses on the far end's loopback (servers off-link for the node,
 * reached only by a route) and routes on either end; DNS servers on those loopbacks come from test/lib/nsd.ts
 * (startNsd with `ns: side`), captures from `capture`. `split` adds what Gluon's 110-network gives a node:
 * `fwmark 0x1/0x1 lookup 1` and table 1's unreachable floor (fail closed). Suites differ in addresses and device
 * names, not in how the node is built; what they add (a uci root, a daemon, config files) stays in their test/lib.
 * Duplicate address detection is off in every namespace: addresses and link-local gateways are usable at once.
 */

import { addAddress, createNamespace, link, type Namespace, type Teardowns } from './netns.js';
import { type Capture, startCapture } from './topo-capture.js';

export type { Capture } from './topo-capture.js';

/** One side of the node: a namespace, and (with `dev`) the veth wire from the node to it. */
interface SideSpec {
  /** The far namespace's label (netns.ts prefixes it with this run's unique prefix). */
  readonly label: string;
  /** The node's device on this wire; without it the namespace is created but not connected. */
  readonly dev?: string;
  /** The far end's device (default: `dev` with a `p`). */
  readonly peerDev?: string;
  /** The wire's networks, e.g. ['192.0.2.0/24', '2001:db8:1::/64'] (an IPv6 one ends in `::/len`). */
  readonly nets?: readonly string[];
  /** The node end's host number on each of `nets` (none: the node end gets no address, as before a DHCP lease). */
  readonly node?: number;
  /** The far end's host number on each of `nets`. */
  readonly peer?: number;
  /** A link-local address (CIDR) for the far end too, e.g. an IPv6 gateway `fe80::1/64`. */
  readonly peerLinkLocal?: string;
  /** Addresses on the far namespace's loopback (CIDR): servers and targets reached only by a route. */
  readonly loopback?: readonly string[];
  /**
   * Node routes via the far end's addresses on `nets` (one per network, IPv4 and IPv6 alike): to `to` (the destinations,
   * matched to a gateway by family; default `default`), in `table` (default main), with `metric`.
   */
  readonly route?: { readonly to?: readonly string[]; readonly table?: number; readonly metric?: number };
  /** The far end's default routes back via the node end's addresses on `nets`. */
  readonly routeBack?: boolean;
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

const isV6 = (address: string): boolean => address.includes(':');

/** Host `host` of network `net` as a CIDR: 198.51.100.4/30 and 1 give 198.51.100.5/30, fd00:a::/64 and 1 fd00:a::1/64. */
function hostOn(net: string, host: number): string {
  const [base = '', len = ''] = net.split('/');
  if (isV6(base)) {
    if (!base.endsWith('::')) throw new Error(`hostOn: ${net}: expected an IPv6 network ending in ::`);
    return `${base}${host.toString(16)}/${len}`;
  }
  const octets = base.split('.').map(Number);
  const last = (octets[3] ?? 0) + host;
  if (octets.length !== 4 || last > 255) throw new Error(`hostOn: ${net}: no host ${host} in this network`);
  return `${octets.slice(0, 3).join('.')}.${last}/${len}`;
}

/** The addresses of host `host` on each of `nets` (none without a host number). */
function hostsOn(nets: readonly string[] | undefined, host: number | undefined): string[] {
  return host === undefined ? [] : (nets ?? []).map((n) => hostOn(n, host));
}

/** `ip route add TO via GATEWAY …` for each gateway (a CIDR's address part), TO the destination of its family. */
function addRoutes(ns: Namespace, gateways: readonly string[], r: NonNullable<SideSpec['route']>): void {
  for (const via of gateways.map((g) => g.replace(/\/\d+$/, ''))) {
    const to = r.to?.find((d) => isV6(d) === isV6(via)) ?? 'default';
    const table = r.table === undefined ? [] : ['table', String(r.table)];
    const metric = r.metric === undefined ? [] : ['metric', String(r.metric)];
    ns.ip(isV6(via) ? '-6' : '-4', 'route', 'add', to, 'via', via, ...table, ...metric);
  }
}

function buildSide(t: Teardowns, node: Namespace, side: SideSpec): Namespace {
  const far = createNamespace(t, side.label);
  far.sysctl('net.ipv6.conf.all.accept_dad', '0');
  far.sysctl('net.ipv6.conf.default.accept_dad', '0');
  const nodeEnd = hostsOn(side.nets, side.node);
  const farEnd = hostsOn(side.nets, side.peer);
  if (side.dev !== undefined) {
    const peerDev = side.peerDev ?? `${side.dev}p`;
    const farAddresses = side.peerLinkLocal === undefined ? farEnd : [...farEnd, side.peerLinkLocal];
    link({ ns: node, dev: side.dev, addresses: nodeEnd }, { ns: far, dev: peerDev, addresses: farAddresses });
    if (side.keepAddrOnDown) far.sysctl(`net.ipv6.conf.${peerDev}.keep_addr_on_down`, '1');
  }
  for (const a of side.loopback ?? []) addAddress(far, 'lo', a);
  if (side.route) addRoutes(node, farEnd, side.route);
  if (side.routeBack) addRoutes(far, nodeEnd, {});
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
