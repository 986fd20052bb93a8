// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The WAN/mesh split of a Gluon node in namespaces, for wan-dns: `node` (where wan-dns runs) has wan0 towards
 * `isp` and mesh0 towards `mesh`. Main table: default via the mesh. Table 1: default via the ISP, reached only by
 * `fwmark 0x1/0x1 lookup 1`, with `unreachable default metric 65535` (fail closed). Both isp and mesh run NSD
 * on the same resolver addresses (198.51.100.53, 2001:db8:53::53), answering TXT "wan" and "mesh", so every
 * answer shows which way the query went.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addAddress,
  commandExists,
  createNamespace,
  isRoot,
  link,
  type Namespace,
  stopProcess,
  type Teardowns,
  waitFor,
} from '../../../../test/lib/netns.js';
import { startNsd } from '../../../../test/lib/nsd.js';
import { exampleZone } from './zone.js';

export const resolverV4 = '198.51.100.53';
export const resolverV6 = '2001:db8:53::53';
export const bin = new URL('../../bin/wan-dns.js', import.meta.url).pathname;

export interface Topo {
  node: Namespace;
  isp: Namespace;
  mesh: Namespace;
  /** World-writable temp dir for config, resolv and control files (the daemon may run as nobody). */
  dir: string;
}

export async function createTopo(t: Teardowns): Promise<Topo> {
  const node = createNamespace(t, 'dn');
  const isp = createNamespace(t, 'di');
  const mesh = createNamespace(t, 'dm');
  for (const ns of [node, isp, mesh]) ns.sysctl('net.ipv6.conf.all.accept_dad', '0');
  link(
    { ns: node, dev: 'wan0', addresses: ['192.0.2.2/24', '2001:db8:1::2/64'] },
    { ns: isp, dev: 'isp0', addresses: ['192.0.2.1/24', '2001:db8:1::1/64'] },
  );
  link(
    { ns: node, dev: 'mesh0', addresses: ['203.0.113.2/24', 'fd00:1::2/64'] },
    { ns: mesh, dev: 'mesh0', addresses: ['203.0.113.1/24', 'fd00:1::1/64'] },
  );
  for (const ns of [isp, mesh]) {
    addAddress(ns, 'lo', `${resolverV4}/32`);
    addAddress(ns, 'lo', `${resolverV6}/128`);
  }
  // Main: everything to the mesh. Table 1: the WAN, fail closed.
  node.ip('route', 'add', 'default', 'via', '203.0.113.1', 'dev', 'mesh0');
  node.ip('-6', 'route', 'add', 'default', 'via', 'fd00:1::1', 'dev', 'mesh0');
  node.ip('route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'wan0', 'table', '1');
  node.ip('-6', 'route', 'add', 'default', 'via', '2001:db8:1::1', 'dev', 'wan0', 'table', '1');
  node.ip('route', 'add', 'unreachable', 'default', 'metric', '65535', 'table', '1');
  node.ip('-6', 'route', 'add', 'unreachable', 'default', 'metric', '65535', 'table', '1');
  node.ip('rule', 'add', 'fwmark', '0x1/0x1', 'lookup', '1', 'pref', '1000');
  node.ip('-6', 'rule', 'add', 'fwmark', '0x1/0x1', 'lookup', '1', 'pref', '1000');
  isp.ip('route', 'add', 'default', 'via', '192.0.2.2');
  isp.ip('-6', 'route', 'add', 'default', 'via', '2001:db8:1::2');
  mesh.ip('route', 'add', 'default', 'via', '203.0.113.2');
  mesh.ip('-6', 'route', 'add', 'default', 'via', 'fd00:1::2');
  await startNsd(t, exampleZone('wan'), { addresses: [resolverV4, resolverV6], port: 53, ns: isp });
  await startNsd(t, exampleZone('mesh'), { addresses: [resolverV4, resolverV6], port: 53, ns: mesh });
  const dir = mkdtempSync(join(tmpdir(), 'wan-dns-topo-'));
  chmodSync(dir, 0o777);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { node, isp, mesh, dir };
}

export interface Running {
  child: ChildProcess;
  output(): string;
}

/**
 * Starts `wan-dns ARGS` in the node namespace (optionally behind `prefix`, e.g. setpriv) and waits until it listens.
 * `command`: what runs it (default Node on bin/wan-dns.js; the QuickJS suite gives meshwan-js and a bundle).
 */
export async function startWanDns(
  t: Teardowns,
  topo: Topo,
  args: readonly string[],
  prefix: readonly string[] = [],
  command: readonly string[] = [process.execPath, bin],
): Promise<Running> {
  const argv = [...prefix, ...command, ...args];
  // Behind setpriv the child cannot write tap's process-info files: give it a plain environment.
  const env = prefix.length > 0 ? { PATH: process.env.PATH ?? '/usr/bin:/bin' } : process.env;
  const child = topo.node.spawn(t, argv[0] as string, argv.slice(1), { env });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  await waitFor('wan-dns to listen', () => /listening on/.test(out) || child.exitCode !== null, 60_000);
  if (child.exitCode !== null) throw new Error(`wan-dns exited ${child.exitCode}: ${out}`);
  return { child, output: () => out };
}

/** tcpdump of DNS packets on `dev` in `ns` into `file`. */
export function capture(t: Teardowns, ns: { name: string }, dev: string, file: string) {
  const child = spawn('ip', ['netns', 'exec', ns.name, 'tcpdump', '-n', '-U', '--immediate-mode', '-i', dev, '-w', file, 'port 53'], {
    stdio: 'pipe',
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  t.teardown(() => stopProcess(child));
  return { child, ready: () => waitFor('tcpdump', () => /listening on/.test(err), 60_000), stop: () => stopProcess(child) };
}

/** The packets of a capture as tcpdump prints them (the independent witness). */
export function capturedLines(ns: { name: string }, file: string): string[] {
  const r = spawnSync('ip', ['netns', 'exec', ns.name, 'tcpdump', '-n', '-r', file], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
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
