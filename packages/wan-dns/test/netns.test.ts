/**
 * The behaviour Gluon relies on, in namespaces: upstream queries take the WAN table only because they carry
 * the mark; without the mark (no CAP_NET_ADMIN) nothing goes out and clients get SERVFAIL; a resolv file
 * rewritten under load loses no query; the mesh-VPN group's redirected lookups are answered exactly once.
 */
import { spawn, spawnSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { commandExists, isRoot, stopProcess, type Teardowns, waitFor } from '../../../test/lib/netns.js';
import { digIn } from './lib/client.js';
import { createTopo, resolverV4, resolverV6, startWanDns } from './lib/topo.js';

const missing = ['nsd', 'dig', 'tcpdump', 'setpriv'].filter((c) => !commandExists(c));
const skip = !isRoot() ? 'needs root for namespaces' : missing.length > 0 ? `missing ${missing.join(', ')}` : false;

function capture(t: Teardowns, ns: { name: string }, dev: string, file: string) {
  const child = spawn('ip', ['netns', 'exec', ns.name, 'tcpdump', '-n', '-U', '-i', dev, '-w', file, 'port 53'], { stdio: 'pipe' });
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  t.teardown(() => stopProcess(child));
  return { child, ready: () => waitFor('tcpdump', () => /listening on/.test(err)), stop: () => stopProcess(child) };
}

/** Packets in a capture, read back by tcpdump (the independent witness). */
function countPackets(ns: { name: string }, file: string): number {
  const r = spawnSync('ip', ['netns', 'exec', ns.name, 'tcpdump', '-n', '-r', file], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

t.test('marked upstream queries reach the WAN resolver over UDP and TCP, v4 and v6 listeners and upstreams', { skip }, async (t) => {
  const topo = await createTopo(t);
  const dig = (...a: Parameters<typeof digIn> extends [unknown, ...infer R] ? R : never) =>
    digIn(['ip', 'netns', 'exec', topo.node.name], ...a);
  // Witness first: without the mark the main table sends it to the mesh.
  t.match((await dig(resolverV4, 53, 'who.example.test', 'TXT')).answers[0], /"mesh"/, 'unmarked lookups go to the mesh');
  for (const server of [resolverV4, `[${resolverV6}]`]) {
    const run = await startWanDns(t, topo, [
      '--listen',
      '127.0.0.1:54',
      '--listen',
      '[::1]:54',
      '--server',
      server,
      '--control',
      join(topo.dir, `c${server.length}`),
    ]);
    for (const listen of ['127.0.0.1', '::1']) {
      for (const transport of ['+notcp', '+tcp']) {
        const r = await dig(listen, 54, 'who.example.test', 'TXT', transport);
        t.equal(r.status, 'NOERROR', `${server} via ${listen} ${transport}`);
        t.match(r.answers[0], /"wan"/, `answered by the WAN resolver: ${server} via ${listen} ${transport}`);
      }
    }
    await stopProcess(run.child);
  }
});

t.test('without CAP_NET_ADMIN: SERVFAIL, one clear log line, nothing sent toward the mesh', { skip }, async (t) => {
  const topo = await createTopo(t);
  const pcap = join(topo.dir, 'mesh.pcap');
  const cap = capture(t, topo.node, 'mesh0', pcap);
  await cap.ready();
  const control = join(topo.dir, 'control');
  writeFileSync(join(topo.dir, 'resolv.conf'), `nameserver ${resolverV4}\nnameserver ${resolverV6}\n`);
  const run = await startWanDns(
    t,
    topo,
    // Port 5454: an unprivileged process cannot bind :54.
    [
      '--listen',
      '127.0.0.1:5454',
      '--resolv-file',
      join(topo.dir, 'resolv.conf'),
      '--config',
      join(topo.dir, 'none'),
      '--control',
      control,
    ],
    ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'],
  );
  for (let i = 0; i < 5; i++) {
    const r = await digIn(['ip', 'netns', 'exec', topo.node.name], '127.0.0.1', 5454, `q${i}.example.test`, 'A', '+tcp');
    t.equal(r.status, 'SERVFAIL');
  }
  const udp = await digIn(['ip', 'netns', 'exec', topo.node.name], '127.0.0.1', 5454, 'u.example.test', 'A');
  t.equal(udp.status, 'SERVFAIL');
  t.match(run.output(), /err: cannot mark upstream socket with 0x1: setMark: EPERM/);
  t.equal(
    run.output().match(/no IPv4 upstream socket carries the WAN mark 0x1: sending nothing/g)?.length,
    1,
    'one line, not one per query',
  );
  const status = topo.node.exec(
    process.execPath,
    new URL('../bin/wan-dns.js', import.meta.url).pathname,
    '--status',
    '--json',
    '--control',
    control,
  );
  const report = JSON.parse(status) as { counters: { refusedUnmarked: number }; markedSockets: number };
  t.equal(report.markedSockets, 0);
  t.ok(report.counters.refusedUnmarked >= 6);
  await new Promise((r) => setTimeout(r, 300));
  await cap.stop();
  t.equal(countPackets(topo.node, pcap), 0, 'the mesh capture holds no DNS packet');
});
