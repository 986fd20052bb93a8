// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * An upstream's route is removed while a query waits for it: the query goes to the other server at once (its
 * attempt never times out), an open TCP upstream connection to it is closed and its query retried on the other
 * server, and the server is down until its route returns, then probed again. Witnesses: tcpdump on wan0 (when a
 * query or SYN has left), dig (which server answered), the daemon's counters.
 */
import { join } from 'node:path';
import t from 'tap';
import { waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { digIn } from './lib/client.js';
import { addResolverB, hostRoutesOnly, resolverB4, serverOf, silence, sniff, statusOf, unsilence } from './lib/route.js';
import { createTopo, forwarderArgs, missingPart, resolverV4, startWanDns } from './lib/topo.js';

t.setTimeout(600_000);

const a = `${resolverV4}:53`;
const b = `${resolverB4}:53`;

requireParts(missingPart);

t.test('route removed under pending queries: failover to the other server at once', async (t) => {
  const topo = await createTopo(t);
  await addResolverB(t, topo);
  hostRoutesOnly(topo);
  const dig = (name: string, ...args: string[]) => digIn(['ip', 'netns', 'exec', topo.node.name], '127.0.0.1', 54, name, 'TXT', ...args);

  await t.test('UDP: the pending attempt moves to the other server', async (t) => {
    const control = join(topo.dir, 'control-udp');
    // The attempt waits far longer than a loaded machine takes to deliver the route event (as in route-source, issue
    // #17): the test is that the route event moves the pending attempt, so its own timer must not win that race.
    const run = await startWanDns(
      t,
      topo,
      forwarderArgs({ servers: [resolverV4, resolverB4], control, attemptTimeoutMs: 600_000, deadlineMs: 600_000 }),
    );
    const before = statusOf(topo, control);
    t.match(serverOf(before, a).route, { reachable: true, dev: 'wan0', table: 1, source: '192.0.2.2' }, JSON.stringify(before.routes));
    silence(topo, resolverV4, 'udp');
    const sent = await sniff(t, topo, 'wan0', `udp and dst host ${resolverV4} and dst port 53`);
    const pending = dig('pending.example.test');
    t.match(await sent.next(), /pending/, 'the query left for the first server');
    topo.node.ip('route', 'del', `${resolverV4}/32`, 'table', '1');
    const r = await pending;
    t.equal(r.status, 'NOERROR');
    t.match(r.records[0], /"wan-b"/, 'answered by the second server');
    const s = statusOf(topo, control);
    const sa = serverOf(s, a);
    t.equal(sa.timeouts, 0, "the first server's pending attempt did not wait for its timeout");
    t.equal(s.counters.routeFailovers, 1, 'one attempt moved when the route went');
    t.equal(s.counters.servfail, 0);
    t.ok(sa.down, 'the first server is down');
    t.match(sa.route, { reachable: false, verdict: 'unreachable' });
    t.match(sa.route.reason, /^unreachable default metric 65535 in table 1 \(rule 1000\) \(EHOSTUNREACH\)$/, 'the floor decided');
    t.equal(serverOf(s, b).answers, 1);

    // The route returns: the server is up again and probed next to the other one.
    unsilence(topo);
    topo.node.ip('route', 'add', `${resolverV4}/32`, 'via', '192.0.2.1', 'dev', 'wan0', 'table', '1');
    await waitFor('the route back', () => serverOf(statusOf(topo, control), a).route.reachable, 60_000, 200);
    const probedBefore = serverOf(statusOf(topo, control), a).queries;
    t.match((await dig('after.example.test')).records[0], /"wan/, 'answered');
    const after = serverOf(statusOf(topo, control), a);
    t.ok(after.queries > probedBefore, 'the first server was probed again');
    t.notOk(after.down);
    t.match(run.output(), /upstream 198\.51\.100\.53:53: route lost/);
  });

  await t.test('TCP: the open upstream connection is closed and its query retried elsewhere', async (t) => {
    const control = join(topo.dir, 'control-tcp');
    await startWanDns(t, topo, forwarderArgs({ servers: [resolverV4, resolverB4], control }));
    // The first server answers UDP (truncated, for "big") but never completes a TCP connection.
    silence(topo, resolverV4, 'tcp');
    t.teardown(() => unsilence(topo));
    const syn = await sniff(t, topo, 'wan0', `tcp and dst host ${resolverV4} and dst port 53`);
    const pending = dig('big.example.test', '+bufsize=1232');
    await syn.next();
    topo.node.ip('route', 'del', `${resolverV4}/32`, 'table', '1');
    const r = await pending;
    t.equal(r.status, 'NOERROR');
    t.equal(r.answers.length, 24, 'the whole answer, fetched over TCP from the other server');
    const s = statusOf(topo, control);
    t.equal(s.counters.routeFailovers, 1, 'the TCP connection was closed when the route went');
    t.equal(serverOf(s, a).timeouts, 0);
    t.ok(serverOf(s, b).tcp >= 1, `the other server was asked over TCP: ${JSON.stringify(s.servers)}`);
    t.equal(s.counters.servfail, 0);
  });
});
