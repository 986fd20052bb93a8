/**
 * The one NSD starter of the test suites: a real authoritative server for one zone, in a namespace or on the host's
 * loopback, from its own temp dir (config, zone, pid file, state, log), in the foreground (-d), stopped by PID at
 * teardown. The zones differ per suite (topo-nsd.ts: meshwan.test for the topology; wan-dns: example.test;
 * iptables-wrapper: redirect.test); the server around them is this one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digSync } from './dig.js';
import { type Namespace, stopProcess, type Teardowns, waitFor } from './netns.js';

export interface NsdZone {
  /** The zone's name, e.g. `example.test`. */
  readonly name: string;
  /** The zone file's text. */
  readonly text: string;
  /** A query the running server answers with `expect` in its answer data: the readiness check. */
  readonly probe: { readonly name: string; readonly type: string; readonly expect: string };
}

export interface NsdOptions {
  /** Addresses to listen on (assigned already); a scoped link-local address is written `fe80::53%dev`. */
  readonly addresses: readonly string[];
  /** Port on every address (default 53). */
  readonly port?: number;
  /** Where it runs: a test namespace, or (undefined) the host, where only loopback addresses are allowed. */
  readonly ns?: Namespace;
  /** Parent of its temp dir (default the system's). */
  readonly parent?: string;
  /** How long it may take to answer (default 60 s: the machine is shared and busy). */
  readonly deadlineMs?: number;
}

export interface NsdServer {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly child: ChildProcess;
  readonly pid: number;
  stop(): Promise<void>;
}

function nsdConf(dir: string, zone: NsdZone, addresses: readonly string[], port: number): string {
  return [
    'server:',
    ...addresses.map((a) => `  ip-address: ${a}@${port}`),
    '  server-count: 1',
    '  username: ""',
    '  chroot: ""',
    `  zonesdir: "${dir}"`,
    `  pidfile: "${join(dir, 'nsd.pid')}"`,
    `  zonelistfile: "${join(dir, 'zone.list')}"`,
    `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
    `  xfrdir: "${join(dir, 'xfr')}"`,
    '  database: ""',
    `  logfile: "${join(dir, 'nsd.log')}"`,
    '  verbosity: 0',
    '  hide-version: yes',
    '  refuse-any: no',
    // NSD's response rate limiting (200 answers/s per source by default) would drop load tests' answers.
    '  rrl-ratelimit: 0',
    'remote-control:',
    '  control-enable: no',
    'zone:',
    `  name: "${zone.name}"`,
    `  zonefile: "${join(dir, 'zone')}"`,
    '',
  ].join('\n');
}

/** Starts NSD serving `zone`; resolves once it answers the zone's probe over UDP on the first address. */
export async function startNsd(t: Teardowns, zone: NsdZone, o: NsdOptions): Promise<NsdServer> {
  const first = o.addresses[0];
  if (first === undefined) throw new Error(`startNsd ${zone.name}: no address given`);
  const port = o.port ?? 53;
  const dir = mkdtempSync(join(o.parent ?? tmpdir(), 'meshwan-nsd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'xfr'));
  writeFileSync(join(dir, 'zone'), zone.text);
  writeFileSync(join(dir, 'nsd.conf'), nsdConf(dir, zone, o.addresses, port));
  // Logs go to a file, not a pipe: a kept simulation (make sim ARGS=--keep) outlives this process.
  const args = ['-d', '-c', join(dir, 'nsd.conf')];
  const child = o.ns ? o.ns.spawn(t, 'nsd', args, { stdio: 'ignore' }) : spawn('nsd', args, { stdio: 'ignore' });
  if (!o.ns) t.teardown(() => stopProcess(child));
  const log = (): string => {
    try {
      return readFileSync(join(dir, 'nsd.log'), 'utf8').trim();
    } catch {
      return '';
    }
  };
  const where = `${o.ns ? o.ns.name : 'the host'}`;
  await waitFor(
    `nsd ${zone.name} on ${first}@${port} in ${where}`,
    () => {
      if (child.exitCode !== null) throw new Error(`nsd ${zone.name} in ${where} exited with ${child.exitCode}: ${log()}`);
      const r = digSync({ server: first, port, name: zone.probe.name, type: zone.probe.type, timeoutSeconds: 1, netns: o.ns?.name });
      return r.answers.some((a) => a.includes(zone.probe.expect));
    },
    o.deadlineMs ?? 60_000,
  );
  if (child.pid === undefined) throw new Error(`nsd ${zone.name}: no pid`);
  return { addresses: o.addresses, port, child, pid: child.pid, stop: () => stopProcess(child) };
}
