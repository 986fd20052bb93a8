// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The only upstream's route becomes unreachable (uplinks' `unreachable` DNS host route, or table 1 falling back to
 * its unreachable floor): the query pending there is answered SERVFAIL at once, not after its timeout, and later
 * queries get SERVFAIL without anything being sent, until the route returns. Witnesses: tcpdump on wan0 (when a
 * query has left), dig, and the daemon's own counters (timeouts stay 0: no attempt waited for its timer).
 */
import { join } from 'node:path';
import t from 'tap';
import { waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { digIn } from './lib/client.js';
import { hostRoutesOnly, serverOf, silence, sniff, statusOf, unsilence } from './lib/route.js';
import { createTopo, forwarderArgs, missingPart, resolverV6, startWanDns } from './lib/topo.js';

t.setTimeout(600_000);

requireParts(missingPart);

t.test('the only upstream becomes unreachable under a pending query: SERVFAIL at once', async (t) => {
  const topo = await createTopo(t);
  hostRoutesOnly(topo);
  const key = `[${resolverV6}]:53`;
  const control = join(topo.dir, 'control');
  // The attempt and the query wait far longer than a loaded machine takes to deliver the route event: the test is
  // that the route event answers the pending query, so its own timer must not be able to win that race.
  const run = await startWanDns(
    t,
    topo,
    forwarderArgs({ servers: [`[${resolverV6}]`], control, attemptTimeoutMs: 30_000, deadlineMs: 60_000 }),
  );
  const dig = (name: string) => digIn(['ip', 'netns', 'exec', topo.node.name], '127.0.0.1', 54, name, 'TXT');

  const before = statusOf(topo, control);
  t.equal(before.routes.state, 'on');
  t.match(
    serverOf(before, key).route,
    { reachable: true, dev: 'wan0', table: 1, gateway: '2001:db8:1::1', source: '2001:db8:1::2' },
    JSON.stringify(serverOf(before, key).route),
  );
  t.match((await dig('first.example.test')).records[0], /"wan"/, 'answered while the route is there');

  silence(topo, resolverV6, 'udp');
  const sent = await sniff(t, topo, 'wan0', `udp and dst host ${resolverV6} and dst port 53`);
  // dig waits as long as the daemon would: an answer, not dig's own timeout, decides.
  const pending = digIn(['ip', 'netns', 'exec', topo.node.name], '127.0.0.1', 54, 'pending.example.test', 'TXT', '+time=30');
  await sent.next();
  // As packages/uplinks does when the uplink that learned the server goes down.
  topo.node.ip('-6', 'route', 'replace', 'unreachable', `${resolverV6}/128`, 'table', '1');
  const r = await pending;
  t.equal(r.status, 'SERVFAIL', 'the pending query is answered SERVFAIL');
  let s = statusOf(topo, control);
  const server = serverOf(s, key);
  t.equal(server.timeouts, 0, 'the pending attempt did not wait for its timeout');
  t.equal(s.counters.routeFailovers, 1, 'it was moved off the server when its route went');
  t.ok(server.down, 'the server is down');
  t.match(server.route, { reachable: false, verdict: 'unreachable' });
  t.match(server.route.reason, /^unreachable 2001:db8:53::53\/128 .*in table 1 .*\(EHOSTUNREACH\)/);
  const queriesBefore = server.queries;

  t.equal((await dig('later.example.test')).status, 'SERVFAIL', 'a later query: SERVFAIL');
  s = statusOf(topo, control);
  t.equal(serverOf(s, key).queries, queriesBefore, 'and nothing was sent for it');
  t.equal(s.counters.routeServfail, 1, 'counted as answered without a route');
  const text = topo.node.exec(process.execPath, join(import.meta.dirname, '../bin/wan-dns.js'), '--status', '--control', control);
  t.match(text, /^route-watch on events \d+ evaluations \d+ resyncs 0 changes 1 sources-gone 0 disagreements 0 pool-renewals 0$/m);
  t.match(text, new RegExp(`^route \\[${resolverV6}\\]:53 unreachable: unreachable ${resolverV6}/128`, 'm'));

  unsilence(topo);
  topo.node.ip('-6', 'route', 'replace', `${resolverV6}/128`, 'via', '2001:db8:1::1', 'dev', 'wan0', 'table', '1');
  await waitFor('the route back in the status', () => serverOf(statusOf(topo, control), key).route.reachable, 60_000, 200);
  t.match((await dig('back.example.test')).records[0], /"wan"/, 'and the server is asked again');
  t.match(run.output(), /route lost \(unreachable: unreachable 2001:db8:53::53\/128/);
  t.match(run.output(), /route back \(reachable via 2001:db8:1::1 dev wan0 in table 1/);
});

t.test('--no-route-watch: no route awareness', async (t) => {
  const topo = await createTopo(t);
  const control = join(topo.dir, 'control');
  await startWanDns(t, topo, forwarderArgs({ servers: [`[${resolverV6}]`], control, extra: ['--no-route-watch'] }));
  const s = statusOf(topo, control);
  t.equal(s.routes.state, 'off (--no-route-watch)');
  t.same(s.routes.servers, []);
});

t.test('reading routes needs no privilege: route awareness as nobody without capabilities', async (t) => {
  const topo = await createTopo(t);
  const control = join(topo.dir, 'control');
  await startWanDns(
    t,
    topo,
    // Port 5454: an unprivileged process cannot bind :54.
    forwarderArgs({ listen: ['127.0.0.1:5454'], servers: [`[${resolverV6}]`], control, root: join(topo.dir, 'none') }),
    ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'],
  );
  const s = statusOf(topo, control);
  t.equal(s.routes.state, 'on');
  t.match(serverOf(s, `[${resolverV6}]:53`).route, { reachable: true, dev: 'wan0', table: 1, source: '2001:db8:1::2' });
});
