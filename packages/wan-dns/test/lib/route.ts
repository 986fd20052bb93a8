/**
 * Helpers for the route-awareness tests: a second WAN resolver in the isp namespace, upstream host routes in
 * table 1 (as packages/uplinks installs them), a silent upstream (nft drops its queries in the isp namespace,
 * so a query stays pending), a line-buffered tcpdump that says when a query has left, and the status as JSON.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { addAddress, onLines, run, stopProcess, type Teardowns, waitFor } from '../../../../test/lib/netns.js';
import { startNsd } from '../../../../test/lib/nsd.js';
import type { RouteReport, StatusReport } from '../../src/stats.js';
import { resolverV4, resolverV6, status, type Topo } from './topo.js';
import { exampleZone } from './zone.js';

export const resolverB4 = '198.51.100.54';
const resolverB6 = '2001:db8:53::54';

/** Adds a second WAN resolver ("wan-b") next to the first on the isp's loopback. */
export async function addResolverB(t: Teardowns, topo: Topo): Promise<void> {
  addAddress(topo.isp, 'lo', `${resolverB4}/32`);
  addAddress(topo.isp, 'lo', `${resolverB6}/128`);
  await startNsd(t, exampleZone('wan-b'), { addresses: [resolverB4, resolverB6], port: 53, ns: topo.isp });
}

/** Table 1 without its WAN defaults: only host routes to the resolvers, then the unreachable floor. */
export function hostRoutesOnly(topo: Topo): void {
  topo.node.ip('route', 'del', 'default', 'via', '192.0.2.1', 'table', '1');
  topo.node.ip('-6', 'route', 'del', 'default', 'via', '2001:db8:1::1', 'table', '1');
  for (const a of [resolverV4, resolverB4]) topo.node.ip('route', 'add', `${a}/32`, 'via', '192.0.2.1', 'dev', 'wan0', 'table', '1');
  for (const a of [resolverV6, resolverB6])
    topo.node.ip('-6', 'route', 'add', `${a}/128`, 'via', '2001:db8:1::1', 'dev', 'wan0', 'table', '1');
}

/** The resolver at `address` stops answering `proto` (its queries are dropped on the isp's input): they stay pending. */
export function silence(topo: Topo, address: string, proto: 'udp' | 'tcp'): void {
  const family = address.includes(':') ? 'ip6' : 'ip';
  run(
    'ip',
    ['netns', 'exec', topo.isp.name, 'nft', '-f', '-'],
    [
      'table inet mwsilence {',
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      `    ${family} daddr ${address} ${proto} dport 53 drop`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
}

export function unsilence(topo: Topo): void {
  topo.isp.try('nft', 'delete', 'table', 'inet', 'mwsilence');
}

/** tcpdump -l on `dev` in the node: `next()` resolves on the next packet matching `filter` (no timing guess). */
export async function sniff(t: Teardowns, topo: Topo, dev: string, filter: string): Promise<{ next(): Promise<string> }> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', topo.node.name, 'tcpdump', '-l', '-n', '--immediate-mode', '-i', dev, filter], {
    stdio: 'pipe',
  });
  t.teardown(() => stopProcess(child));
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  onLines(child.stdout, (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else lines.push(l);
  });
  await waitFor('tcpdump', () => /listening on/.test(err), 60_000);
  return {
    next: () => {
      const l = lines.shift();
      return l !== undefined ? Promise.resolve(l) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

export interface Status extends StatusReport {
  routes: RouteReport;
}

export function statusOf(topo: Topo, control: string): Status {
  return JSON.parse(status(topo, control)) as Status;
}

export function serverOf(s: Status, key: string) {
  const server = s.servers.find((x) => x.server === key);
  const route = s.routes.servers.find((x) => x.server === key);
  if (!server || !route) throw new Error(`no server ${key} in ${JSON.stringify(s.servers)}`);
  return { ...server, route };
}
