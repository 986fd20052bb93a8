// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The WAN/mesh split of a Gluon node in namespaces, for wan-dns: `node` (where wan-dns runs) has wan0 towards
 * `isp` and mesh0 towards `mesh`. Main table: default via the mesh. Table 1: default via the ISP, reached only by
 * `fwmark 0x1/0x1 lookup 1`, with `unreachable default metric 65535` (fail closed). Both isp and mesh run NSD
 * on the same resolver addresses (198.51.100.53, 2001:db8:53::53), answering TXT "wan" and "mesh", so every
 * answer shows which way the query went.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Capture, createGluonNode } from '../../../../test/lib/gluon-node.js';
import { commandExists, isRoot, type Namespace, type Teardowns } from '../../../../test/lib/netns.js';
import { startNsd } from '../../../../test/lib/nsd.js';
import { bin, type Running, spawnWanDns } from './process.js';
import { exampleZone } from './zone.js';

export const resolverV4 = '198.51.100.53';
export const resolverV6 = '2001:db8:53::53';
export { bin } from './process.js';

export interface Topo {
  node: Namespace;
  isp: Namespace;
  mesh: Namespace;
  /** World-writable temp dir for config, resolv and control files (the daemon may run as nobody). */
  dir: string;
  /** Starts a capture on a node device (test/lib/topo-capture.ts: read it with `packets('port 53')`). */
  capture(dev: string): Promise<Capture>;
}

export async function createTopo(t: Teardowns): Promise<Topo> {
  // Main: everything to the mesh. Table 1: the WAN, fail closed. Both routers answer on the same resolver addresses.
  const loopback = [`${resolverV4}/32`, `${resolverV6}/128`];
  const {
    node,
    mesh,
    wan: isp,
    capture,
  } = createGluonNode(t, {
    label: 'dn',
    mesh: {
      label: 'dm',
      dev: 'mesh0',
      peerDev: 'mesh0',
      nets: ['203.0.113.0/24', 'fd00:1::/64'],
      node: 2,
      peer: 1,
      loopback,
      route: {},
      routeBack: true,
    },
    wans: [
      {
        label: 'di',
        dev: 'wan0',
        peerDev: 'isp0',
        nets: ['192.0.2.0/24', '2001:db8:1::/64'],
        node: 2,
        peer: 1,
        loopback,
        route: { table: 1 },
        routeBack: true,
      },
    ],
    split: { pref: 1000, families: [4, 6], floor: true },
  });
  await startNsd(t, exampleZone('wan'), { addresses: [resolverV4, resolverV6], port: 53, ns: isp });
  await startNsd(t, exampleZone('mesh'), { addresses: [resolverV4, resolverV6], port: 53, ns: mesh });
  const dir = mkdtempSync(join(tmpdir(), 'wan-dns-topo-'));
  chmodSync(dir, 0o777);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { node, isp, mesh, dir, capture };
}

/** What a test's wan-dns is started with (the CLI's flags, in one typed place). */
export interface ForwarderArgs {
  /** Where it listens (default 127.0.0.1:54). */
  readonly listen?: readonly string[];
  /** Upstreams (--server), in order. */
  readonly servers?: readonly string[];
  /** Upstreams from this resolv file instead (--resolv-file). */
  readonly resolvFile?: string;
  /** --root: a directory without a uci config, so that only the flags name upstreams. */
  readonly root?: string;
  /** The control socket (--control). */
  readonly control: string;
  readonly deadlineMs?: number;
  readonly attemptTimeoutMs?: number;
  /** Further flags, as given (e.g. --no-route-watch). */
  readonly extra?: readonly string[];
}

/** The argv of `wan-dns` for `o`. */
export function forwarderArgs(o: ForwarderArgs): string[] {
  const flag = (name: string, value: string | number | undefined): string[] => (value === undefined ? [] : [name, String(value)]);
  return [
    ...(o.listen ?? ['127.0.0.1:54']).flatMap((l) => ['--listen', l]),
    ...(o.servers ?? []).flatMap((s) => ['--server', s]),
    ...flag('--resolv-file', o.resolvFile),
    ...flag('--root', o.root),
    ...flag('--control', o.control),
    ...flag('--deadline', o.deadlineMs),
    ...flag('--attempt-timeout', o.attemptTimeoutMs),
    ...(o.extra ?? []),
  ];
}

/**
 * Starts `wan-dns ARGS` in the node namespace (optionally behind `prefix`, e.g. setpriv) and waits until it listens.
 * `command`: what runs it (default Node on bin/wan-dns.js; the QuickJS suite gives meshwan-js and a bundle).
 */
export function startWanDns(
  t: Teardowns,
  topo: Topo,
  args: readonly string[],
  prefix: readonly string[] = [],
  command?: readonly string[],
): Promise<Running> {
  return spawnWanDns(t, args, { ns: topo.node, prefix, ...(command === undefined ? {} : { command }) });
}

const missing = ['nsd', 'dig', 'tcpdump', 'setpriv'].filter((c) => !commandExists(c));
/** Why namespace tests cannot run here, or false. */
export const missingPart: string | false = !isRoot()
  ? 'needs root for namespaces'
  : missing.length > 0
    ? `missing ${missing.join(', ')}`
    : false;

export const status = (topo: Topo, control: string): string =>
  topo.node.exec(process.execPath, bin, '--status', '--json', '--control', control);
