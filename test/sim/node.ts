/**
 * A whole meshwan node in namespaces, for `make sim` and test/e2e: the staged firmware, its upgrade scripts run,
 * the topology around it (WAN tables and resolv file as the staged config says), and `meshwan daemon` and `wan-dns`
 * running in the node namespace from the staged files, as their init scripts would start them.
 * Each step is reported through `report` (PASS, or FAIL with why: an error, or a part missing from the staged tree),
 * so the simulation can narrate it and the tests fail by name.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Netifd, startNetifd } from '../lib/netifd.js';
import type { Teardowns } from '../lib/netns.js';
import { waitFor } from '../lib/netns.js';
import { createTopology, type Topology, type TopologyOptions } from '../lib/topology.js';
import {
  cleanArgv,
  configureIpv4Split,
  configureStaticWanForNetifd,
  type Firmware,
  missingMessage,
  type Part,
  reconfigure,
  stageFirmware,
  wanTables,
} from './firmware.js';
import { type Service, serviceSpec, startService } from './services.js';

type Outcome = 'PASS' | 'FAIL';
export interface StepResult {
  name: string;
  outcome: Outcome;
  detail: string;
  ms: number;
}
export type Report = (step: StepResult) => void;

/** Runs one step: FAIL when a needed part is missing or `fn` throws, else PASS with what it returned. */
export async function step(
  report: Report,
  fw: Firmware | undefined,
  name: string,
  requires: readonly Part[],
  fn: () => Promise<string | undefined> | string | undefined,
): Promise<boolean> {
  const missing = requires.filter((p) => !fw?.has(p));
  const started = Date.now();
  if (missing.length > 0) {
    report({ name, outcome: 'FAIL', detail: fw === undefined ? 'no staged firmware' : missingMessage(missing), ms: 0 });
    return false;
  }
  try {
    const detail = (await fn()) ?? '';
    report({ name, outcome: 'PASS', detail, ms: Date.now() - started });
    return true;
  } catch (err: unknown) {
    report({ name, outcome: 'FAIL', detail: err instanceof Error ? err.message : String(err), ms: Date.now() - started });
    return false;
  }
}

export interface MeshwanNode {
  readonly fw: Firmware;
  readonly topo: Topology;
  /** The VPN group's gid from the staged site file. */
  readonly gid: number;
  readonly daemon: Service | undefined;
  readonly wanDns: Service | undefined;
  /** Whether the node is complete enough for the leak steps (daemon and forwarder both running). */
  readonly complete: boolean;
  /** OpenWrt's real netifd in the node (`--netifd=real`), applying the staged /etc/config/network. */
  readonly netifd: Netifd | undefined;
}

export interface NodeOptions extends Pick<TopologyOptions, 'wan4' | 'wan6' | 'wanMode'> {
  /** An already staged firmware (tests stage once per file); staged afresh when absent. */
  firmware?: Firmware;
  /**
   * Run OpenWrt's real netifd (test/lib/netifd.ts) in the node on the staged /etc/config/network, its WAN static
   * (configureStaticWanForNetifd), as on a router; wanMode is then 'netifd'. Off: the topology's WAN client
   * stands in for netifd.
   */
  netifd?: boolean;
}

function gidOf(fw: Firmware): number {
  const site = readFileSync(join(fw.root, 'lib/gluon/site.ini'), 'utf8');
  const m = /^\s*gid\s*=\s*(\S+)/m.exec(site.slice(site.indexOf('[mesh_vpn]')));
  return m?.[1] === undefined ? 800 : Number(m[1]);
}

function tail(file: string, lines = 6): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' | ');
}

/** Whether something in the node listens on UDP `addr:port` (ss, the independent witness). */
export function listening(topo: Topology, addr: string, port: number): boolean {
  const out = topo.node.try('ss', '-Hlun').stdout;
  return out.split('\n').some((l) => l.includes(`${addr}:${port} `));
}

/** Brings the node up; steps are reported as they happen. Returns undefined when staging itself failed. */
export async function startNode(t: Teardowns, report: Report, options: NodeOptions = {}): Promise<MeshwanNode | undefined> {
  let fw: Firmware | undefined = options.firmware;
  let stagedOk = fw !== undefined;
  if (fw === undefined)
    stagedOk = await step(report, undefined, 'firmware staged (make install DESTDIR=, mk/stage.mjs)', [], () => {
      const staged = stageFirmware();
      fw = staged.firmware;
      t.teardown(() => {
        spawnSync('rm', ['-rf', staged.firmware.root, `${staged.firmware.root}.sim`]);
      });
      if (!staged.ok) {
        const lines = staged.output.trim().split('\n');
        const errors = lines.filter((l) => /error/i.test(l));
        throw new Error((errors.length > 0 ? errors : lines).slice(0, 4).join(' | '));
      }
      return staged.firmware.root;
    });
  if (fw === undefined || !stagedOk) return undefined;
  const firmware: Firmware = fw;

  let reconfigured = false;
  reconfigured = await step(report, firmware, 'upgrade scripts ran (meshwan-reconfigure --root)', ['upgrade-scripts'], () => {
    const r = reconfigure(firmware);
    if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.output.trim().split('\n').slice(-4).join(' | ')}`);
    return `${r.output.trim().split('\n').length} lines of output`;
  });

  if (reconfigured) {
    await step(report, firmware, 'IPv4 split the OpenWrt way (uci: wan.ip4table 1, rule wan4_lookup, route wan4_unreachable)', [], () => {
      const r = configureIpv4Split(firmware);
      if (r.status !== 0) throw new Error(`uci batch: exit ${r.status}: ${r.output.trim()}`);
      return "the simulated mesh has IPv4, so the WAN's IPv4 goes to table 1 as well";
    });
  }

  if (reconfigured && options.netifd) {
    await step(
      report,
      firmware,
      "WAN static for OpenWrt's netifd (uci: wan 192.0.2.2/24 gw 192.0.2.1, wan6 2001:db8:1::2/64 gw fe80::1)",
      [],
      () => {
        const r = configureStaticWanForNetifd(firmware);
        if (r.status !== 0) throw new Error(`uci batch: exit ${r.status}: ${r.output.trim()}`);
        return 'netifd applies it: addresses, routes and rules';
      },
    );
  }
  const wanMode = options.netifd ? 'netifd' : options.wanMode;

  // netifd would configure the WAN from the staged config; before the upgrade scripts exist, Gluon's tables (1).
  const tables = reconfigured ? wanTables(firmware) : { table4: 1, table6: 1 };
  const resolvFile = join(firmware.root, 'var/gluon/wan-dnsmasq/resolv.conf');
  mkdirSync(join(resolvFile, '..'), { recursive: true });
  let topo: Topology | undefined;
  await step(report, firmware, `namespaces up: node, isp (${wanMode ?? 'static'} WAN), mesh; NSD on both sides`, [], async () => {
    topo = await createTopology(t, {
      wan4: options.wan4,
      wan6: options.wan6,
      wanMode,
      table4: tables.table4 ?? null,
      table6: tables.table6 ?? null,
      resolvFile,
    });
    const w = topo.wan.addresses;
    return `wan0 ${[w.v4, w.v6].filter(Boolean).join(' ')}; WAN DNS ${topo.wan.dnsServers().join(' ')}; IPv4 WAN routes in ${
      tables.table4 ?? 'main'
    }, IPv6 in ${tables.table6 ?? 'main'}`;
  });
  if (topo === undefined) return undefined;
  const tp: Topology = topo;

  let netifd: Netifd | undefined;
  if (options.netifd) {
    const up = ['loopback', ...(options.wan4 === false ? [] : ['wan']), ...(options.wan6 === false ? [] : ['wan6'])];
    const ok = await step(report, firmware, `OpenWrt's netifd running in the node (${up.join(', ')} up)`, [], async () => {
      netifd = await startNetifd(t, tp.node, readFileSync(join(firmware.root, 'etc/config/network'), 'utf8'), up);
      return `pid ${netifd.pid}; ${tp.node.ip('-4', 'route', 'show', 'table', '1').split('\n')[0] ?? ''}`;
    });
    if (!ok) return undefined;
  }

  let daemon: Service | undefined;
  const daemonUp = await step(report, firmware, 'meshwan daemon running in the node (fwmark rule in place)', ['policy'], async () => {
    const spec = serviceSpec(firmware, 'meshwan', ['/usr/sbin/meshwan', 'daemon']);
    daemon = startService(t, tp.node, firmware, spec, { '--root': firmware.root });
    const d = daemon;
    await waitFor(
      'the fwmark rule',
      () => {
        if (d.pid() === undefined && d.respawns() === 0) throw new Error(`meshwan daemon exited: ${tail(d.log)}`);
        // Beside netifd the fwmark rule is netifd's: the daemon's first pass (gate, firewall) is over once it watches.
        return /fwmark/.test(tp.node.ip('-6', 'rule', 'show')) && (netifd === undefined || /meshwan: watching/.test(tail(d.log, 50)));
      },
      10_000,
    );
    return `${spec.source}; pid ${d.pid()}`;
  });

  let wanDns: Service | undefined;
  const dnsUp = await step(
    report,
    firmware,
    'wan-dns running in the node (listening on 127.0.0.1:54 and [::1]:54)',
    ['wan-dns'],
    async () => {
      const spec = serviceSpec(firmware, 'wan-dns', ['/usr/sbin/wan-dns']);
      wanDns = startService(t, tp.node, firmware, spec, {
        '--root': firmware.root,
        '--resolv-file': resolvFile,
      });
      const s = wanDns;
      await waitFor(
        'wan-dns listening',
        () => {
          if (s.pid() === undefined && s.respawns() === 0) throw new Error(`wan-dns exited: ${tail(s.log)}`);
          return listening(tp, '127.0.0.1', 54) && listening(tp, '[::1]', 54);
        },
        10_000,
      );
      return `${spec.source}; pid ${s.pid()}`;
    },
  );

  return { fw: firmware, topo: tp, gid: gidOf(firmware), daemon, wanDns, complete: daemonUp && dnsUp, netifd };
}

export interface LoadResult {
  total: number;
  failures: number;
  /** Failed lookups' statuses, e.g. ["SERVFAIL", "TIMEOUT"]. */
  failed: string[];
  /** The last answer's first data field (which server answered). */
  last: string;
}

/**
 * Lookups back to back (one at a time, as a resolver would) until stop() is called. Names are
 * `LABEL-PID-N.meshwan.test`, so a capture can tell this load's queries from others'.
 */
export function lookupLoad(
  t: Teardowns,
  topo: Topology,
  server: string,
  gid: number | undefined,
  label = gid === undefined ? 'otherload' : 'vpnload',
): { stop(): Promise<LoadResult>; current(): LoadResult } {
  const result: LoadResult = { total: 0, failures: 0, failed: [], last: '' };
  let running = true;
  // A scenario that throws never calls stop(): the loop must not outlive the namespaces (it would spin).
  t.teardown(() => {
    running = false;
  });
  const loop = (async () => {
    while (running) {
      const r = await topo.digAsync(server, topo.probeName(label), { gid, timeoutSeconds: 2 });
      result.total++;
      if (r.status !== 'NOERROR' || r.answers.length === 0) {
        result.failures++;
        result.failed.push(r.status);
      } else result.last = r.answers[0] ?? '';
    }
  })();
  return {
    current: () => result,
    stop: async () => {
      running = false;
      await loop;
      return result;
    },
  };
}

/** Runs a firmware command inside the node namespace with the firmware's environment; status and output. */
export function runInNode(node: MeshwanNode, command: string, args: readonly string[]): { status: number | null; output: string } {
  const head = node.fw.command(command);
  if (head === undefined) return { status: 127, output: `${command}: not in the staged tree` };
  // wan-dns --status finds the simulated node's control socket under its root, as the daemon made it there.
  const rooted = command === 'wan-dns' && !args.includes('--root') ? ['--root', node.fw.root] : [];
  const argv = ['netns', 'exec', node.topo.node.name, ...cleanArgv([...head, ...args, ...rooted])];
  const r = spawnSync('ip', argv, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
