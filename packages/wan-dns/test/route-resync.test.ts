// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The kernel drops route events when the monitor's receive buffer overflows (ENOBUFS); the route to an upstream
 * that disappeared inside such a burst is still noticed, because the watch evaluates every server again after the
 * Monitor's re-dump (`resynced`). Also: netlink that cannot be opened means one log line and no route awareness.
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { createGluonNode } from '../../../test/lib/gluon-node.js';
import { isRoot, type Namespace, type Teardowns, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { stderrLogger } from '../src/log.js';
import type { RouteState } from '../src/route-state.js';
import { RouteWatch, type RouteWatchOptions } from '../src/route-watch.js';
import { Server } from '../src/upstreams.js';
import { startDaemon } from './lib/daemon.js';

requireParts(isRoot() ? false : 'needs root for namespaces');

t.setTimeout(600_000);

/** A node whose wan0 (192.0.2.2/24) leads to a peer, with a table-1 route to the upstream 198.51.100.53. */
function wanNode(t: Teardowns, label: string, peerLabel: string, floor: boolean): Namespace {
  return createGluonNode(t, {
    label,
    mesh: { label: `${peerLabel}m` },
    wans: [
      {
        label: peerLabel,
        dev: 'wan0',
        peerDev: 'isp0',
        nets: ['192.0.2.0/24'],
        node: 2,
        peer: 1,
        route: { to: ['198.51.100.53/32'], table: 1 },
      },
    ],
    split: { pref: 1000, families: [4], floor },
  }).node;
}

/** A RouteWatch on `node` for `servers`, its log lines kept; closed at teardown. */
function startWatch(t: Teardowns, node: Namespace, servers: readonly Server[], o: Pick<RouteWatchOptions, 'hooks' | 'rcvbufBytes'>) {
  const lines: string[] = [];
  const watch = RouteWatch.start({
    mark: 0x1,
    servers: () => servers,
    log: stderrLogger('wan-dns', (l) => lines.push(l)),
    netns: `/run/netns/${node.name}`,
    ...o,
  });
  if (typeof watch === 'string') throw new Error(watch);
  t.teardown(() => watch.close());
  return { watch, lines };
}

t.test('resync after ENOBUFS re-evaluates every upstream', async (t) => {
  const node = wanNode(t, 'rr', 'rp', true);
  node.ip('route', 'add', '198.51.100.54/32', 'via', '192.0.2.1', 'dev', 'wan0', 'table', '1');
  const servers = [
    new Server({ address: '198.51.100.53', port: 53, family: 4 }),
    new Server({ address: '198.51.100.54', port: 53, family: 4 }),
  ];
  const lost: [string, RouteState][] = [];
  const { watch, lines } = startWatch(t, node, servers, {
    // A tiny buffer: the burst below overflows it while this process is busy (the kernel's minimum applies).
    rcvbufBytes: 4096,
    hooks: {
      lost: (s, state) => lost.push([s.key, state]),
      back: () => {},
      moved: () => {},
      renumbering: () => {},
      sourceGone: () => {},
    },
  });
  t.match(watch.state(servers[0] as Server), { reachable: true, dev: 'wan0', table: 1, source: '192.0.2.2' });

  // One `ip -batch`: 3000 routes in another table, the first server's host route deleted in the middle, 3000 more.
  // This process is blocked in spawnSync meanwhile, so nothing reads the monitor socket: its events overflow.
  const batch: string[] = [];
  for (let i = 0; i < 3000; i++) batch.push(`route add 10.${(i >> 8) & 255}.${i & 255}.0/24 dev wan0 table 2`);
  batch.push('route del 198.51.100.53/32 table 1');
  for (let i = 3000; i < 6000; i++) batch.push(`route add 10.${(i >> 8) & 255}.${i & 255}.0/24 dev wan0 table 2`);
  const r = spawnSync('ip', ['-n', node.name, '-batch', '-'], { input: `${batch.join('\n')}\n`, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);

  await waitFor('a resync', () => watch.status().resyncs > 0, 60_000);
  await waitFor('the lost route', () => lost.length > 0, 60_000);
  t.same(
    lost.map(([k]) => k),
    ['198.51.100.53:53'],
    'the server whose route went inside the burst is reported lost, the other is not',
  );
  t.match(lost[0]?.[1], { reachable: false, verdict: 'unreachable' });
  t.match(watch.state(servers[1] as Server), { reachable: true });
  t.match(lines.join(''), /netlink overrun \(ENOBUFS\), routes dumped again/);
});

t.test('netlink cannot be opened: one log line, the forwarder runs without route awareness', async (t) => {
  const { daemon, lines } = await startDaemon(t, { routeWatch: { netns: '/run/netns/meshwan-no-such-namespace' } });
  const status = daemon.status();
  t.match(status.routes?.state, /^off: /);
  t.same(status.routes?.servers, []);
  t.equal(lines.filter((l) => /route watch off, running without route awareness/.test(l)).length, 1);
});

t.test('the cache says no route but the kernel routes the server: the kernel wins, logged once', async (t) => {
  const node = wanNode(t, 'rk', 'rq', false);
  // Port selectors are not modelled by the cache (packages/netlink README): a packet to port 9999 only is refused.
  node.ip('rule', 'add', 'ipproto', 'udp', 'dport', '9999', 'prohibit', 'pref', '500');
  const servers = [new Server({ address: '198.51.100.53', port: 53, family: 4 })];
  const { watch, lines } = startWatch(t, node, servers, {
    hooks: { lost: () => {}, back: () => {}, moved: () => {}, renumbering: () => {}, sourceGone: () => {} },
  });
  t.match(watch.state(servers[0] as Server), { reachable: true, dev: 'wan0', table: 1, source: '192.0.2.2', reason: /\(kernel\)$/ });
  t.equal(watch.status().disagreements, 1);
  watch.evaluate();
  t.equal(
    lines.filter((l) => /the route cache says unreachable: prohibit rule \(rule 500\).*trusting the kernel/.test(l)).length,
    1,
    'one line',
  );
});
