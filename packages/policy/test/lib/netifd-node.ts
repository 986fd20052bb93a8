/**
 * A node whose WAN (`wan0`, a veth to `uplink`) is configured by Gluon-like static sections (issue #19): `wan` and
 * `wan6` static on wan0 with ip4table/ip6table 1, `rule`/`rule6` fwmark 0x1/0x1 lookup 1, the two unreachable
 * routes in table 1. Three ways to configure it: OpenWrt's real netifd alone, `meshwan apply` alone (the addresses
 * set by hand, as a DHCP client would), and meshwan beside the running netifd. `snapshot` gives the kernel's rules
 * and routes as `ip -d` lines, so that differences read exactly as the commands print them.
 */
import { createGluonNode } from '../../../../test/lib/gluon-node.js';
import { loopbackInterface, startNetifd } from '../../../../test/lib/netifd.js';
import { addAddress, type Namespace, type Teardowns, waitFor } from '../../../../test/lib/netns.js';
import { ipv4SplitSections, ipv6SplitSections, meshwan, stageRoot, type TestNode } from './node.js';

const WAN_DEV = 'wan0';
const WAN4 = { addr: '192.0.2.5', len: 24, gateway: '192.0.2.1' } as const;
const WAN6 = { addr: '2001:db8:1::5', len: 64, gateway: '2001:db8:1::1' } as const;

export const staticWanNetwork = `${loopbackInterface}
config interface 'wan'
	option device '${WAN_DEV}'
	option proto 'static'
	option ipaddr '${WAN4.addr}'
	option netmask '255.255.255.0'
	option gateway '${WAN4.gateway}'
	option ip4table '1'

config interface 'wan6'
	option device '${WAN_DEV}'
	option proto 'static'
	option ip6addr '${WAN6.addr}/${WAN6.len}'
	option ip6gw '${WAN6.gateway}'
	option ip6table '1'

${ipv4SplitSections}
${ipv6SplitSections}`;

/** The variant with netifd's device option that turns on its IPv6 `iif lo` and `failed_policy` rules. */
const staticWanNetworkIpv6Device = `${staticWanNetwork}
config device
	option name '${WAN_DEV}'
	option ipv6 '1'
`;

const netifdInterfaces = ['loopback', 'wan', 'wan6'] as const;

/** A node namespace with wan0 up (no addresses yet), its uplink peer, and a staged meshwan root with the config. */
export function createStaticWanNode(t: Teardowns, networkText: string): TestNode {
  const root = stageRoot(t, networkText, 'meshwan-netifd-node-');
  // The mesh namespace stays unconnected: a mesh0 link-local route in main would only add noise to the comparisons.
  const { node, mesh, wan } = createGluonNode(t, {
    label: 'nfn',
    mesh: { label: 'nfm' },
    wans: [{ label: 'nfu', dev: WAN_DEV, peerDev: 'home0', nets: [`192.0.2.0/${WAN4.len}`, `2001:db8:1::/${WAN6.len}`], peer: 1 }],
  });
  return { node, uplink: wan, mesh, root };
}

/** What netifd's `proto static` sets on wan0, done by hand (as a DHCP client would) for meshwan alone. */
function addWanAddresses(node: Namespace): void {
  addAddress(node, WAN_DEV, `${WAN4.addr}/${WAN4.len}`);
  addAddress(node, WAN_DEV, `${WAN6.addr}/${WAN6.len}`);
}

/** Starts the real netifd on the node's config and waits until its interfaces are up. */
export async function netifdOn(t: Teardowns, n: TestNode, networkText: string) {
  return startNetifd(t, n.node, networkText, netifdInterfaces);
}

/** The two configs every netifd comparison runs on: [test name, network text]. */
export const staticWanVariants = [
  ['static WAN', staticWanNetwork],
  ["static WAN, config device option ipv6 '1'", staticWanNetworkIpv6Device],
] as const;

/** A node configured by the real netifd alone, once its IPv4 default is in. */
export async function netifdNode(t: Teardowns, networkText: string): Promise<TestNode> {
  const n = createStaticWanNode(t, networkText);
  await netifdOn(t, n, networkText);
  await waitFor('netifd routes', () => snapshot(n.node).routes4.some((l) => l.startsWith('unicast default')), 60_000);
  return n;
}

/** `meshwan apply` without a firewall (these tests compare rules and routes only). */
export function applyRoutes(n: TestNode) {
  return meshwan(n, ['apply'], { MESHWAN_FIREWALL: 'none' });
}

/** A node with the WAN addresses set by hand and `meshwan apply` run alone (no netifd). */
export function meshwanAloneNode(t: Teardowns, networkText: string): { n: TestNode; r: ReturnType<typeof meshwan> } {
  const n = createStaticWanNode(t, networkText);
  addWanAddresses(n.node);
  return { n, r: applyRoutes(n) };
}

export interface Snapshot {
  readonly rules4: string[];
  readonly rules6: string[];
  /** Every route outside table local (the kernel's, from the addresses, identical in all three setups). */
  readonly routes4: string[];
  readonly routes6: string[];
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l !== '');
}

export function snapshot(ns: Namespace): Snapshot {
  const routes = (family: '-4' | '-6') =>
    lines(ns.ip('-d', family, 'route', 'show', 'table', 'all')).filter((l) => !/ table local /.test(l));
  return {
    rules4: lines(ns.ip('-d', '-4', 'rule')),
    rules6: lines(ns.ip('-d', '-6', 'rule')),
    routes4: routes('-4'),
    routes6: routes('-6'),
  };
}

/** meshwan's own rules: the gate (prefs 9000-9002, proto 77). */
export function isGate(line: string): boolean {
  return /^900[012]: .* proto 77$/.test(line);
}

export function withoutGate(s: Snapshot): Snapshot {
  return { ...s, rules4: s.rules4.filter((l) => !isGate(l)), rules6: s.rules6.filter((l) => !isGate(l)) };
}

export interface Difference {
  readonly what: keyof Snapshot;
  /** Lines netifd has that the other lacks. */
  readonly onlyNetifd: string[];
  /** Lines the other has that netifd lacks (a line present twice counts twice). */
  readonly onlyOther: string[];
}

/** Multiset difference per list: what each side has more of. Empty when the two are the same line for line. */
export function differences(netifd: Snapshot, other: Snapshot): Difference[] {
  const out: Difference[] = [];
  for (const what of ['rules4', 'rules6', 'routes4', 'routes6'] as const) {
    const minus = (a: string[], b: string[]) => {
      const rest = [...b];
      return a.filter((l) => {
        const i = rest.indexOf(l);
        if (i < 0) return true;
        rest.splice(i, 1);
        return false;
      });
    };
    const onlyNetifd = minus(netifd[what], other[what]);
    const onlyOther = minus(other[what], netifd[what]);
    if (onlyNetifd.length > 0 || onlyOther.length > 0) out.push({ what, onlyNetifd, onlyOther });
  }
  return out;
}

export function formatDifferences(diffs: readonly Difference[]): string {
  return diffs
    .map((d) =>
      [`${d.what}:`, ...d.onlyNetifd.map((l) => `  netifd only: ${l}`), ...d.onlyOther.map((l) => `  meshwan only: ${l}`)].join('\n'),
    )
    .join('\n');
}

export function formatSnapshot(s: Snapshot): string {
  return (['rules4', 'rules6', 'routes4', 'routes6'] as const).map((k) => [`${k}:`, ...s[k].map((l) => `  ${l}`)].join('\n')).join('\n');
}
