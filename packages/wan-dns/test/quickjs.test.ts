// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * wan-dns as the router runs it: src/main.ts bundled for QuickJS by mk/bundle.mjs and run by meshwan-js, in the
 * WAN/mesh namespaces of lib/topo.ts (NSD behind both uplinks answering TXT "wan" or "mesh"): A and AAAA over UDP
 * and TCP on 127.0.0.1:54 and [::1]:54, answered by the WAN's resolver (so the upstream queries carried the mark:
 * only fwmark 0x1 reaches table 1), a truncated answer fetched again over a marked TCP connection, SERVFAIL once
 * table 1 has no route, and bad flags refused before anything listens. The same bundle runs on meshwan-js for
 * big-endian MIPS under qemu-user, where SO_MARK does not exist (ENOPROTOOPT, README): it answers, failing closed.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { stopProcess, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { engine } from '../../os/test/lib/probe.js';
import { bundleEntry } from '../../os/test/lib/seam.js';
import { digIn } from './lib/client.js';
import { createTopo, missingPart, resolverV4, resolverV6, startWanDns, type Topo } from './lib/topo.js';

requireParts(missingPart);
t.setTimeout(600_000);

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
// Each engine built first when it is not (a fresh clone builds mips's here), and each runs its own bytecode of
// the bundle, as staging ships it.
const host = [engine('host')];
const mips = ['qemu-mips-static', '-L', '/usr/mips-linux-gnu', engine('mips_24kc')];

function bundle(dir: string, runtime: 'host' | 'mips_24kc' = 'host'): Promise<string> {
  return bundleEntry(main, runtime, dir);
}

const digNode = (topo: Topo, server: string, port: number, name: string, type: string, ...args: string[]) =>
  digIn(['ip', 'netns', 'exec', topo.node.name], server, port, name, type, ...args);

t.test('meshwan-js: A and AAAA over UDP and TCP from the WAN resolver through marked sockets; SERVFAIL without a route', async (t) => {
  const topo = await createTopo(t);
  const file = await bundle(topo.dir);
  // Witness first: an unmarked lookup from the node goes to the mesh.
  t.match((await digNode(topo, resolverV4, 53, 'who.example.test', 'TXT')).answers, ['mesh'], 'unmarked lookups go to the mesh');
  const control = join(topo.dir, 'control');
  const args = [
    '--listen',
    '127.0.0.1:54',
    '--listen',
    '[::1]:54',
    '--server',
    resolverV4,
    '--server',
    `[${resolverV6}]`,
    '--control',
    control,
  ];
  const run = await startWanDns(t, topo, args, [], [...host, file]);
  for (const listen of ['127.0.0.1', '::1']) {
    for (const transport of ['+notcp', '+tcp']) {
      const a = await digNode(topo, listen, 54, 'www.example.test', 'A', transport);
      t.same([a.status, a.answers], ['NOERROR', ['192.0.2.80']], `A via ${listen} ${transport}`);
      const aaaa = await digNode(topo, listen, 54, 'www.example.test', 'AAAA', transport);
      t.same([aaaa.status, aaaa.answers], ['NOERROR', ['2001:db8::80']], `AAAA via ${listen} ${transport}`);
      const who = await digNode(topo, listen, 54, 'who.example.test', 'TXT', transport);
      t.same(who.answers, ['wan'], `answered by the WAN resolver, so the upstream query was marked: ${listen} ${transport}`);
    }
  }
  // 24 TXT records of 90 bytes: truncated over UDP, so wan-dns asks again over its marked TCP connection.
  const big = await digNode(topo, '127.0.0.1', 54, 'big.example.test', 'TXT', '+tcp');
  t.equal(big.status, 'NOERROR');
  t.equal(big.answers.length, 24, 'the whole answer, fetched upstream over TCP');
  const status = spawnSync('ip', ['netns', 'exec', topo.node.name, ...host, file, '--status', '--json', '--control', control], {
    encoding: 'utf8',
  });
  t.equal(status.status, 0, status.stderr);
  const report = JSON.parse(status.stdout) as { markedSockets: number; counters: { tcpRetries: number } };
  t.ok(report.markedSockets > 0, `${report.markedSockets} marked upstream sockets`);
  t.ok(report.counters.tcpRetries >= 1, 'a TCP retry upstream');

  // No route for marked packets: table 1 keeps only its unreachable floor.
  topo.node.ip('route', 'del', 'default', 'via', '192.0.2.1', 'table', '1');
  topo.node.ip('-6', 'route', 'del', 'default', 'via', '2001:db8:1::1', 'table', '1');
  await waitFor(
    'SERVFAIL once the WAN table has no route',
    async () => (await digNode(topo, '127.0.0.1', 54, 'gone.example.test', 'A', '+notcp')).status === 'SERVFAIL',
    60_000,
  );
  const tcp = await digNode(topo, '127.0.0.1', 54, 'gone2.example.test', 'A', '+tcp');
  t.equal(tcp.status, 'SERVFAIL', 'over TCP too');
  t.notMatch(run.output(), /internal error/);
  await stopProcess(run.child);
});

t.test('meshwan-js: a bad flag is a clear error and exit 2 before anything listens', async (t) => {
  const topo = await createTopo(t);
  const file = await bundle(topo.dir);
  for (const [args, message] of [
    [['--listen', 'nonsense'], /--listen: /],
    [['--mark', 'one'], /--mark: /],
    [['--bogus'], /--bogus: unknown flag/],
  ] as const) {
    const r = spawnSync('ip', ['netns', 'exec', topo.node.name, ...host, file, ...args, '--listen', '127.0.0.1:54'], { encoding: 'utf8' });
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`);
    t.match(r.stderr, message);
    t.match(r.stderr, /usage: wan-dns/);
    t.notMatch(r.stderr, /listening on/);
  }
  const ss = spawnSync('ip', ['netns', 'exec', topo.node.name, 'ss', '-lnup'], { encoding: 'utf8' });
  t.notMatch(ss.stdout, /:54\b/, 'nothing listens on :54');
});

t.test('mips_24kc under qemu-user: answers on loopback over UDP and TCP, failing closed without SO_MARK', async (t) => {
  const topo = await createTopo(t);
  const file = await bundle(topo.dir, 'mips_24kc');
  const args = ['--listen', '127.0.0.1:54', '--server', resolverV4, '--control', join(topo.dir, 'control'), '--no-route-watch'];
  const run = await startWanDns(t, topo, args, [], [...mips, file]);
  for (const transport of ['+notcp', '+tcp']) {
    const r = await digNode(topo, '127.0.0.1', 54, 'www.example.test', 'A', transport);
    t.equal(r.status, 'SERVFAIL', `an answer over ${transport}: SERVFAIL, as no upstream socket carries the mark`);
  }
  // qemu-user 7.2 has no SO_MARK: a qemu that learns it fails here, and the README gets updated.
  t.match(run.output(), /cannot mark upstream socket with 0x1: setMark: ENOPROTOOPT/);
  t.match(run.output(), /no IPv4 upstream socket carries the WAN mark 0x1: sending nothing/);
  await stopProcess(run.child);
});
