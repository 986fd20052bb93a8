// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * Upstream queries take the WAN table only because they carry the mark; without the mark (no CAP_NET_ADMIN)
 * nothing goes out and clients get SERVFAIL.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { stopProcess } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { digIn } from './lib/client.js';
import { createTopo, forwarderArgs, missingPart, resolverV4, resolverV6, startWanDns, status } from './lib/topo.js';

requireParts(missingPart);

// Namespaces, NSD and real timeouts on a shared, busy machine: more than tap's default 30 s per file.
t.setTimeout(600_000);

t.test('marked upstream queries reach the WAN resolver over UDP and TCP, v4 and v6 listeners and upstreams', async (t) => {
  const topo = await createTopo(t);
  const dig = (...a: Parameters<typeof digIn> extends [unknown, ...infer R] ? R : never) =>
    digIn(['ip', 'netns', 'exec', topo.node.name], ...a);
  // Witness first: without the mark the main table sends it to the mesh.
  t.match((await dig(resolverV4, 53, 'who.example.test', 'TXT')).records[0], /"mesh"/, 'unmarked lookups go to the mesh');
  for (const server of [resolverV4, `[${resolverV6}]`]) {
    const run = await startWanDns(
      t,
      topo,
      forwarderArgs({ listen: ['127.0.0.1:54', '[::1]:54'], servers: [server], control: join(topo.dir, `c${server.length}`) }),
    );
    for (const listen of ['127.0.0.1', '::1']) {
      for (const transport of ['+notcp', '+tcp']) {
        const r = await dig(listen, 54, 'who.example.test', 'TXT', transport);
        t.equal(r.status, 'NOERROR', `${server} via ${listen} ${transport}`);
        t.match(r.records[0], /"wan"/, `answered by the WAN resolver: ${server} via ${listen} ${transport}`);
      }
    }
    await stopProcess(run.child);
  }
});

t.test('without CAP_NET_ADMIN: SERVFAIL, one clear log line, nothing sent toward the mesh', async (t) => {
  const topo = await createTopo(t);
  const cap = await topo.capture('mesh0');
  const control = join(topo.dir, 'control');
  writeFileSync(join(topo.dir, 'resolv.conf'), `nameserver ${resolverV4}\nnameserver ${resolverV6}\n`);
  const run = await startWanDns(
    t,
    topo,
    // Port 5454: an unprivileged process cannot bind :54.
    forwarderArgs({ listen: ['127.0.0.1:5454'], resolvFile: join(topo.dir, 'resolv.conf'), root: join(topo.dir, 'none'), control }),
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
  const report = JSON.parse(status(topo, control)) as { counters: { refusedUnmarked: number }; markedSockets: number };
  t.equal(report.markedSockets, 0);
  t.ok(report.counters.refusedUnmarked >= 6);
  // Positive control: an unmarked lookup from the node does go to the mesh, and the capture sees it.
  const control2 = await digIn(['ip', 'netns', 'exec', topo.node.name], resolverV4, 53, 'control.example.test', 'A');
  t.equal(control2.status, 'NOERROR');
  await new Promise((r) => setTimeout(r, 300));
  await cap.stop();
  const lines = cap.packets('port 53');
  t.ok(
    lines.some((l) => l.includes('control.example.test')),
    'the capture works: it saw the control lookup',
  );
  t.equal(lines.length, 2, 'and nothing else went toward the mesh: just that query and its answer');
});
