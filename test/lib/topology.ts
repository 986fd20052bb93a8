/**
 * A whole meshwan node's surroundings in network namespaces, shared by test/e2e and `make sim`:
 *
 *   mesh ns (meshp0) ───── mesh0 [ node ns ] wan0 ───── isp0 (isp ns)
 *   198.51.100.1/28          main: default via mesh      192.0.2.1/24, 2001:db8:1::1/64, fe80::1
 *   fd00:1::1/64             table 1: WAN routes          DHCPv4 + RA (dnsmasq) or static
 *   NSD "mesh" on lo:                                    NSD "wan-a" on lo: 203.0.113.53, 2001:db8:2::53
 *   198.51.100.53, fd00:53::53                           NSD "wan-b" on lo: 203.0.113.54, 2001:db8:2::54
 *
 * Every DNS server answers `*.meshwan.test` differently (TXT wan-a / wan-b / mesh), so an answer names the path
 * a lookup took. The DNS servers sit on the routers' loopbacks, off-link for the node: only a route (main's mesh
 * default, or table 1's WAN default) reaches them, never a connected prefix.
 * Nothing here installs the fwmark rule, the unreachable route or the redirect: that is meshwan's job (or the
 * test's). Teardown (namespaces, veths, processes by PID) is registered before anything is created.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DigQuery, type DigResult, dig, digSync } from './dig.js';
import { createGluonNode } from './gluon-node.js';
import { addAddress, type Namespace, run, type Teardowns } from './netns.js';
import { type NsdServer, startNsd } from './nsd.js';
import type { Capture } from './topo-capture.js';
import { type DhcpServer, startDhcpServer } from './topo-isp.js';
import { testZone, testZoneOf } from './topo-nsd.js';
import { createWanClient, type WanClient } from './topo-wan.js';

export type { Capture } from './topo-capture.js';
export { testZone } from './topo-nsd.js';
export { parseRdisc6 } from './topo-wan.js';

/** Fixed addresses of the topology (documentation and ULA ranges only). */
export const addr = {
  ispRouter4: '192.0.2.1',
  ispRouter6: '2001:db8:1::1',
  ispRouterLL: 'fe80::1',
  wanDnsA4: '203.0.113.53',
  wanDnsA6: '2001:db8:2::53',
  wanDnsB4: '203.0.113.54',
  wanDnsB6: '2001:db8:2::54',
  meshRouter4: '198.51.100.1',
  meshRouter6: 'fd00:1::1',
  node4: '198.51.100.2',
  node6: 'fd00:1::2',
  meshDns4: '198.51.100.53',
  meshDns6: 'fd00:53::53',
} as const;

/** What each DNS server answers, so a test can tell which one did. */
export const answers = {
  wanA: { txt: 'wan-a', a: '203.0.113.80', aaaa: '2001:db8:2::80' },
  wanB: { txt: 'wan-b', a: '203.0.113.81', aaaa: '2001:db8:2::81' },
  mesh: { txt: 'mesh', a: '198.51.100.80', aaaa: 'fd00:53::80' },
} as const;

export interface TopologyOptions {
  /** IPv4 on the WAN (default true). */
  wan4?: boolean;
  /** IPv6 on the WAN (default true). */
  wan6?: boolean;
  /**
   * 'static' (fast, for tests), 'dhcp' (DHCPv4 and RA from dnsmasq, as a real ISP router), or 'netifd' (the caller
   * runs OpenWrt's real netifd with a static WAN config: 192.0.2.2/24 via 192.0.2.1, 2001:db8:1::2/64 via fe80::1;
   * the resolv file as in static mode). Default 'static'.
   */
  wanMode?: 'static' | 'dhcp' | 'netifd';
  /** Table for the WAN's IPv4 routes (netifd ip4table); null: main. Default 1. */
  table4?: number | null;
  /** Table for the WAN's IPv6 routes (netifd ip6table); null: main. Default 1. */
  table6?: number | null;
  /** Where the WAN DNS servers are written (default: a temp file). */
  resolvFile?: string;
  /** The WAN mark and mask the leak witness counts against (default 0x1/0x1). */
  mark?: number;
  mask?: number;
}

/** A query from the node namespace: dig.ts's, without the namespace (always the node) and TXT by default. */
type DigOptions = Omit<DigQuery, 'server' | 'name' | 'netns'>;

export interface Topology {
  readonly node: Namespace;
  readonly isp: Namespace;
  readonly mesh: Namespace;
  readonly wan: WanClient;
  readonly dhcp: DhcpServer | undefined;
  readonly nsd: { readonly wanA: NsdServer; readonly wanB: NsdServer; readonly mesh: NsdServer };
  readonly resolvFile: string;
  /** Scratch directory holding every server's config, state, logs and captures (removed at teardown). */
  readonly stateDir: string;
  readonly options: Required<Omit<TopologyOptions, 'resolvFile'>>;
  /** dig from the node namespace. */
  dig(server: string, name: string, options?: DigOptions): DigResult;
  /** The same, without blocking the event loop (for lookups under load while something else changes). */
  digAsync(server: string, name: string, options?: DigOptions): Promise<DigResult>;
  /** Starts a capture on a node interface (wan0 or mesh0) or any namespace's. */
  capture(dev: string, ns?: Namespace): Promise<Capture>;
  /**
   * Sets wan0 down (the kernel drops its routes) or up again and re-configures it, as netifd's ifup would; with
   * wanMode 'netifd', pulls and plugs the cable instead (the ISP's end down and up: carrier, as a router sees it).
   */
  setWanLink(up: boolean): Promise<void>;
  /** Packets that left wan0 without the WAN mark (ND and DHCP excepted), counted by an nft rule in the node. */
  unmarkedOnWan(): number;
  /** Packets that left wan0 with the WAN mark. */
  markedOnWan(): number;
  /** A name under the test zone unique to this call, to find one step's queries in a capture. */
  probeName(label: string): string;
}

let probeCounter = 0;

/** The node's query as dig.ts runs it: answers and status comments only, TXT unless told. */
function nodeQuery(node: Namespace, server: string, name: string, d: DigOptions): DigQuery {
  return { type: 'TXT', ...d, options: ['+noall', '+comments', '+answer', ...(d.options ?? [])], server, name, netns: node.name };
}

function witnessRuleset(dev: string, mark: number, mask: number): string {
  // Counts every packet leaving `dev` with or without the WAN mark. Router solicitations and neighbour discovery
  // (ICMPv6) and DHCP (udp 67/68) are sent unmarked by design and are not a leak.
  return [
    'table inet mwwitness {',
    '  counter marked { }',
    '  counter unmarked { }',
    '  chain post {',
    '    type filter hook postrouting priority 300; policy accept;',
    `    oifname != "${dev}" return`,
    `    meta mark & 0x${mask.toString(16)} == 0x${mark.toString(16)} counter name "marked" return`,
    '    meta l4proto icmpv6 return',
    '    udp dport { 67, 68 } return',
    '    counter name "unmarked"',
    '  }',
    '}',
    '',
  ].join('\n');
}

function readCounter(ns: Namespace, name: string): number {
  const json = JSON.parse(ns.exec('nft', '-j', 'list', 'counter', 'inet', 'mwwitness', name)) as {
    nftables: { counter?: { packets: number } }[];
  };
  return json.nftables.find((o) => o.counter)?.counter?.packets ?? 0;
}

/** Builds the topology; resolves once every server answers. */
export async function createTopology(t: Teardowns, options: TopologyOptions = {}): Promise<Topology> {
  const o = {
    wan4: options.wan4 ?? true,
    wan6: options.wan6 ?? true,
    wanMode: options.wanMode ?? 'static',
    table4: options.table4 === undefined ? 1 : options.table4,
    table6: options.table6 === undefined ? 1 : options.table6,
    mark: options.mark ?? 0x1,
    mask: options.mask ?? 0x1,
  };
  const stateDir = mkdtempSync(join(tmpdir(), 'meshwan-topo-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const resolvFile = options.resolvFile ?? join(stateDir, 'resolv.conf');
  // ISP router: link addresses (fe80::1 is the RA source and IPv6 gateway), DNS on its loopback. Mesh: the node's
  // default routes for everything but the WAN.
  const wanDnsA = [`${addr.wanDnsA4}/32`, `${addr.wanDnsA6}/128`];
  const wanDnsB = [`${addr.wanDnsB4}/32`, `${addr.wanDnsB6}/128`];
  const ispNets = [...(o.wan4 ? ['192.0.2.0/24'] : []), ...(o.wan6 ? ['2001:db8:1::/64'] : [])];
  const built = createGluonNode(t, {
    stateDir,
    mesh: {
      label: 'mesh',
      dev: 'mesh0',
      peerDev: 'meshp0',
      nets: ['198.51.100.0/28', 'fd00:1::/64'],
      node: 2,
      peer: 1,
      route: { metric: 100 },
    },
    wans: [{ label: 'isp', dev: 'wan0', peerDev: 'isp0', nets: ispNets, peer: 1, peerLinkLocal: o.wan6 ? 'fe80::1/64' : undefined }],
  });
  for (const a of ['198.51.100.53/32', 'fd00:53::53/128']) addAddress(built.mesh, 'lo', a);
  for (const a of [...wanDnsA, ...wanDnsB]) addAddress(built.wan, 'lo', a);
  const { node, mesh, wan: isp } = built;
  const [wanA, wanB, meshNsd] = await Promise.all([
    startNsd(t, testZoneOf(answers.wanA), { ns: isp, addresses: [addr.wanDnsA4, addr.wanDnsA6], parent: stateDir }),
    startNsd(t, testZoneOf(answers.wanB), { ns: isp, addresses: [addr.wanDnsB4, addr.wanDnsB6], parent: stateDir }),
    startNsd(t, testZoneOf(answers.mesh), { ns: mesh, addresses: [addr.meshDns4, addr.meshDns6], parent: stateDir }),
  ]);
  const nsd = { wanA, wanB, mesh: meshNsd };
  const dns4 = o.wan4 ? [addr.wanDnsA4] : [];
  const dns6 = o.wan6 ? [addr.wanDnsA6] : [];
  const dhcp =
    o.wanMode === 'dhcp' ? await startDhcpServer(t, isp, { dev: 'isp0', v4: o.wan4, v6: o.wan6, dns4, dns6 }, stateDir) : undefined;

  run('ip', ['netns', 'exec', node.name, 'nft', '-f', '-'], witnessRuleset('wan0', o.mark, o.mask));

  const wan = createWanClient(t, node, {
    dev: 'wan0',
    mode: o.wanMode,
    v4: o.wan4,
    v6: o.wan6,
    table4: o.table4 ?? undefined,
    table6: o.table6 ?? undefined,
    resolvFile,
    staticDns: [...dns4, ...dns6],
    stateDir,
  });
  t.teardown(() => wan.stop());
  await wan.up();

  const topology: Topology = {
    node,
    isp,
    mesh,
    wan,
    dhcp,
    nsd,
    resolvFile,
    stateDir,
    options: o,
    dig: (server, name, d = {}) => digSync(nodeQuery(node, server, name, d)),
    digAsync: (server, name, d = {}) => dig(nodeQuery(node, server, name, d)),
    capture: built.capture,
    async setWanLink(up) {
      // With netifd the cable is pulled (the ISP's end goes down: carrier loss): netifd keeps a static interface up
      // and re-applies nothing when someone else sets its device administratively down and up again (the kernel
      // flushed its IPv6 address and the table-1 routes meanwhile), which no router's WAN port sees.
      if (o.wanMode === 'netifd') isp.ip('link', 'set', 'isp0', up ? 'up' : 'down');
      else node.ip('link', 'set', 'wan0', up ? 'up' : 'down');
      if (up) await wan.up();
    },
    unmarkedOnWan: () => readCounter(node, 'unmarked'),
    markedOnWan: () => readCounter(node, 'marked'),
    probeName: (label) => `${label}-${process.pid}-${probeCounter++}.${testZone}`,
  };
  return topology;
}

/**
 * Teardowns for plain scripts (make sim): runs them last-registered first, once, on `run()`, on SIGINT and SIGTERM
 * (then exits 130 or 143), so a Ctrl-C never leaves a namespace or a process behind.
 */
export class TeardownStack implements Teardowns {
  private readonly fns: (() => void | Promise<void>)[] = [];
  private running: Promise<void> | undefined;

  teardown(fn: () => void | Promise<void>): void {
    this.fns.push(fn);
  }

  /** Runs every teardown (errors are reported, not thrown: the rest must still run). */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (let fn = this.fns.pop(); fn !== undefined; fn = this.fns.pop()) {
        try {
          await fn();
        } catch (err: unknown) {
          process.stderr.write(`teardown: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
    })();
    return this.running;
  }

  /** Installs SIGINT/SIGTERM handlers that tear down and exit. */
  onSignals(): void {
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      process.once(signal, () => {
        process.stderr.write(`\n${signal}: tearing down\n`);
        void this.run().then(() => process.exit(code));
      });
    }
  }
}
