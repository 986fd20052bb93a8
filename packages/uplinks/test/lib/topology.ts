/**
 * Two uplinks in namespaces: the node has `wa` (to router A, gateway fe80::a1, link-local) and `wb` (to router B,
 * gateway 2001:db8:b::1, global, so on-link handling is exercised). Each router answers its own track address
 * (2001:db8:fa::1 / 2001:db8:fb::1) and the shared "internet" address 2001:db8:ee::1. The node gets what the policy
 * package would add: `fwmark 0x1/0x1 lookup 1` and the `unreachable ::/0 metric 65535` floor in table 1.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { createGluonNode } from '../../../../test/lib/gluon-node.js';
import { addAddress, type Namespace, type Teardowns } from '../../../../test/lib/netns.js';

export interface Topology {
  readonly node: Namespace;
  readonly ra: Namespace;
  readonly rb: Namespace;
  readonly dir: string;
}

export function buildTopology(t: Teardowns): Topology {
  // Taking a router's port down must cut carrier, not wipe its addresses (IPv6 drops them on admin down otherwise).
  // The mesh side stays unconnected: uplinks only manages the WAN table.
  const keepAddrOnDown = true;
  const {
    node,
    wans: [ra, rb],
  } = createGluonNode(t, {
    label: 'upn',
    mesh: { label: 'upm' },
    wans: [
      { label: 'upa', dev: 'wa', peerDev: 'ua', nets: ['2001:db8:a::/64'], node: 2, peer: 1, peerLinkLocal: 'fe80::a1/64', keepAddrOnDown },
      { label: 'upb', dev: 'wb', peerDev: 'ub', nets: ['2001:db8:b::/64'], node: 2, peer: 1, keepAddrOnDown },
    ],
    split: { pref: 1, families: [6], floor: true },
  });
  for (const [ns, track] of [
    [ra, '2001:db8:fa::1/128'],
    [rb, '2001:db8:fb::1/128'],
  ] as const) {
    if (ns !== undefined) for (const a of [track, '2001:db8:ee::1/128']) addAddress(ns, 'lo', a);
  }
  if (ra === undefined || rb === undefined) throw new Error('buildTopology: two uplinks expected');
  const dir = mkdtempSync(join(tmpdir(), 'uplinks-netns-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { node, ra, rb, dir };
}

export interface UplinkOptions {
  readonly metricA?: number;
  readonly metricB?: number;
  readonly weightA?: number;
  readonly weightB?: number;
  readonly gatewayA?: string | null;
  readonly extra?: string;
}

/** Writes DIR/root/etc/config/meshwan-uplinks for the topology; returns the root (`--root`). */
export function writeConfig(topo: Topology, o: UplinkOptions = {}): string {
  const confdir = join(topo.dir, 'root/etc/config');
  const gatewayA = o.gatewayA === undefined ? 'fe80::a1' : o.gatewayA;
  const text = `
config globals 'globals'
	option table '1'
	option state_file '${join(topo.dir, 'last-good.json')}'
	option resolv_file '${join(topo.dir, 'resolv.conf')}'

config interface 'wana'
	option device 'wa'
	option family 'ipv6'
${gatewayA === null ? '' : `	option gateway '${gatewayA}'\n`}	list track_ip '2001:db8:fa::1'
	option interval '0.2'
	option timeout '0.3'
	option up '2'
	option down '2'
	option metric '${o.metricA ?? 1}'
	option weight '${o.weightA ?? 1}'
	list dns_server '2001:db8:fa::53'

config interface 'wanb'
	option device 'wb'
	option family 'ipv6'
	option gateway '2001:db8:b::1'
	list track_ip '2001:db8:fb::1'
	option interval '0.2'
	option timeout '0.3'
	option up '2'
	option down '2'
	option metric '${o.metricB ?? 2}'
	option weight '${o.weightB ?? 1}'
${o.extra ?? ''}`;
  mkdirSync(confdir, { recursive: true });
  writeFileSync(join(confdir, 'meshwan-uplinks'), text);
  return join(topo.dir, 'root');
}

export interface RouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  type?: string;
  metric?: number;
  protocol?: string;
  nexthops?: { gateway?: string; dev: string; weight?: number }[];
}

/** Table 1 as `ip -j -6 route show table 1` prints it: the independent witness. */
export function table1(node: Namespace): RouteJson[] {
  return node.ipJson<RouteJson[]>('-6', 'route', 'show', 'table', '1');
}

/** The device(s) of our default in table 1 (proto 78), or [] when only the floor is left. */
export function defaultDevices(node: Namespace): string[] {
  const ours = table1(node).find((r) => r.dst === 'default' && r.protocol === '78');
  if (!ours) return [];
  if (ours.nexthops) return ours.nexthops.map((h) => h.dev).sort();
  return ours.dev ? [ours.dev] : [];
}

export const bin = new URL('../../bin/meshwan-uplinks.js', import.meta.url).pathname;

export interface RunningDaemon {
  readonly child: ChildProcess;
  /** Where the daemon writes its status (--status-file). */
  readonly statusFile: string;
  /** Everything it wrote to stderr so far (its log). */
  stderr(): string;
}

/**
 * Starts `meshwan-uplinks daemon --root ROOT` in the node; its log is printed when the test fails. `command`: what
 * runs it (default Node on bin/meshwan-uplinks.js; test/quickjs.test.ts gives meshwan-js and the bytecode).
 */
export function startDaemon(
  t: Test,
  topo: Topology,
  root: string,
  command: readonly [string, ...string[]] = [process.execPath, bin],
): RunningDaemon {
  const statusFile = join(topo.dir, 'status.json');
  let stderr = '';
  const [program, ...first] = command;
  const child = topo.node.spawn(t, program, [...first, 'daemon', '--root', root, '--status-file', statusFile]);
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  t.teardown(() => {
    if (!t.passing()) t.comment(stderr);
  });
  return { child, statusFile, stderr: () => stderr };
}

/** A waitFor check: our table-1 default uses exactly `devs` (sorted; [] for the floor alone). */
export function onDevices(topo: Topology, devs: readonly string[]): () => boolean {
  return () => JSON.stringify(defaultDevices(topo.node)) === JSON.stringify(devs);
}

/** Cuts router A's or B's port (carrier loss on the node's wa/wb). */
export function portDown(topo: Topology, which: 'a' | 'b'): void {
  (which === 'a' ? topo.ra : topo.rb).ip('link', 'set', which === 'a' ? 'ua' : 'ub', 'down');
}

/** Restores the port; the kernel drops link-local addresses on admin down even with keep_addr_on_down, so A's fe80::a1 is put back. */
export function portUp(topo: Topology, which: 'a' | 'b'): void {
  const ns = which === 'a' ? topo.ra : topo.rb;
  const dev = which === 'a' ? 'ua' : 'ub';
  ns.ip('link', 'set', dev, 'up');
  if (which === 'a') ns.ip('-6', 'addr', 'replace', 'fe80::a1/64', 'dev', dev, 'nodad');
}
