// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * A renewal that breaks before it makes (udhcpc's `deconfig`: the old address and with it table 1's WAN route
 * go first, the new lease comes after): while an address left wan0 recently and wan0 still has carrier, queries
 * wait for the new route instead of failing, and are never sent over the mesh. A WAN that really went away
 * (no new address within the hold, or carrier lost) still fails closed: SERVFAIL, nothing on the mesh.
 * Witnesses: dig, tcpdump on mesh0 and wan0, the daemon's counters. Every wait is for an event.
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { type DigResult, digIn } from './lib/client.js';
import { serverOf, statusOf } from './lib/route.js';
import { createTopo, forwarderArgs, missingPart, resolverV4, startWanDns, type Topo } from './lib/topo.js';

t.setTimeout(600_000);

const key = `${resolverV4}:53`;

/** wan-dns on the node with one IPv4 upstream; `holdMs` is the attempt timeout, and so the longest hold. */
async function start(t: Test, holdMs: number) {
  const topo = await createTopo(t);
  const control = join(topo.dir, 'control');
  // The deadline is the test's, not the machine's speed: the renumbering window lasts a query's deadline.
  const run = await startWanDns(t, topo, forwarderArgs({ servers: [resolverV4], control, deadlineMs: 600_000, attemptTimeoutMs: holdMs }));
  const mesh = await topo.capture('mesh0');
  const dig = (name: string): Promise<DigResult> =>
    digIn(['ip', 'netns', 'exec', topo.node.name], '127.0.0.1', 54, name, 'TXT', '+time=120');
  t.match((await dig('before.example.test')).records[0], /"wan"/, 'the WAN answers before the renewal');
  return { topo, control, run, mesh, dig, status: () => statusOf(topo, control) };
}

/** udhcpc's deconfig: the old address goes, and the kernel drops the routes through it (table 1's default). */
async function deconfig(topo: Topo, control: string): Promise<void> {
  topo.node.ip('addr', 'del', '192.0.2.2/24', 'dev', 'wan0');
  await waitFor('the route lost in the status', () => !serverOf(statusOf(topo, control), key).route.reachable, 60_000, 100);
}

requireParts(missingPart);

t.test('old address first, then the new one: the query waits for the new route and is answered', async (t) => {
  const { topo, control, run, mesh, dig, status } = await start(t, 600_000);
  await deconfig(topo, control);
  const pending = dig('gap.example.test');
  await waitFor('the query held', () => status().counters.held === 1, 60_000, 100);
  // The new lease: address and table 1's default route.
  topo.node.ip('addr', 'add', '192.0.2.3/24', 'dev', 'wan0');
  topo.node.ip('route', 'replace', 'default', 'via', '192.0.2.1', 'dev', 'wan0', 'table', '1');
  const r = await pending;
  t.equal(r.status, 'NOERROR', 'answered, not SERVFAIL');
  t.match(r.records[0], /"wan"/, 'by the WAN resolver');
  const s = status();
  t.equal(s.counters.servfail, 0);
  t.equal(s.counters.routeServfail, 0);
  t.equal(s.counters.heldServfail, 0);
  t.ok(s.counters.heldMaxMs > 0, `held ${s.counters.heldMaxMs} ms`);
  t.match(serverOf(s, key).route, { reachable: true, source: '192.0.2.3' });
  t.match(run.output(), /route lost .*renumbering/);
  await mesh.stop();
  t.same(mesh.packets('port 53'), [], 'nothing on the mesh');
});

t.test('no new address within the hold: SERVFAIL when it runs out, nothing sent', async (t) => {
  const { topo, control, mesh, dig, status } = await start(t, 1000);
  await deconfig(topo, control);
  const r = await dig('gone.example.test');
  t.equal(r.status, 'SERVFAIL', 'fails closed when the hold runs out');
  const s = status();
  t.equal(s.counters.held, 1, 'it was held first');
  t.equal(s.counters.heldServfail, 1);
  t.ok(s.counters.heldMaxMs >= 1000, `held for the whole attempt timeout (${s.counters.heldMaxMs} ms)`);
  t.equal(serverOf(s, key).queries, 1, 'only the query before the renewal went upstream');
  await mesh.stop();
  t.same(mesh.packets('port 53'), [], 'nothing on the mesh');
});

t.test('carrier lost during the hold: SERVFAIL at once, nothing sent', async (t) => {
  const { topo, control, run, mesh, dig, status } = await start(t, 600_000);
  await deconfig(topo, control);
  const pending = dig('unplugged.example.test');
  await waitFor('the query held', () => status().counters.held === 1, 60_000, 100);
  // The cable is pulled: wan0 loses carrier when its peer goes down.
  topo.isp.ip('link', 'set', 'isp0', 'down');
  const r = await pending;
  t.equal(r.status, 'SERVFAIL', 'answered SERVFAIL long before the 600 s hold would end');
  const s = status();
  t.equal(s.counters.heldServfail, 1);
  t.equal(serverOf(s, key).queries, 1, 'only the query before the renewal went upstream');
  t.match(run.output(), /renumbering over without a route/);
  // A query now fails at once: no renumbering without carrier.
  t.equal((await dig('after.example.test')).status, 'SERVFAIL');
  t.equal(status().counters.held, 1, 'and is not held');
  await mesh.stop();
  t.same(mesh.packets('port 53'), [], 'nothing on the mesh');
});
