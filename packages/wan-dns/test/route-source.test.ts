// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The WAN is renumbered under a pending query (the source address it left from is removed, the route stays): the
 * query is sent again at once from the new source instead of waiting for an answer that can no longer arrive, and
 * the socket pool is renewed. Witnesses: tcpdump on wan0 (the source of each query), dig, the daemon's counters.
 */
import { join } from 'node:path';
import t from 'tap';
import { addAddress, connect, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { digIn } from './lib/client.js';
import { serverOf, silence, sniff, statusOf, unsilence } from './lib/route.js';
import { createTopo, forwarderArgs, missingPart, resolverV4, resolverV6, startWanDns } from './lib/topo.js';

// A whole file may need minutes on a loaded 2-core machine (several suites at once): a generous deadline.
t.setTimeout(600_000);

requireParts(missingPart);

t.test('the source address of a pending query vanishes: sent again from the new one', async (t) => {
  const topo = await createTopo(t);
  const key = `[${resolverV6}]:53`;
  const control = join(topo.dir, 'control');
  // The first attempt is held pending by the test, not by a race with its timeout (issue #17: on a loaded machine
  // the renumbering below came after the 400 ms attempt timeout, so the query was retried, then failed). With
  // attempts that never time out by themselves, an answer before dig gives up proves the resend came at once.
  const run = await startWanDns(
    t,
    topo,
    forwarderArgs({ servers: [`[${resolverV6}]`], control, deadlineMs: 600_000, attemptTimeoutMs: 600_000 }),
  );
  const before = statusOf(topo, control);
  t.match(serverOf(before, key).route, { reachable: true, source: '2001:db8:1::2' }, JSON.stringify(before.routes));

  silence(topo, resolverV6, 'udp');
  const sent = await sniff(t, topo, 'wan0', `udp and dst host ${resolverV6} and dst port 53`);
  const pending = digIn(['ip', 'netns', 'exec', topo.node.name], '127.0.0.1', 54, 'renumbered.example.test', 'TXT', '+time=120');
  t.match(await sent.next(), /2001:db8:1::2\.\d+ > /, 'the query left from the old address (and was dropped)');
  unsilence(topo);
  // Renumbered as a new prefix lease does it: the new address first, then the old one removed.
  topo.node.ip('-6', 'addr', 'add', '2001:db8:1::3/64', 'dev', 'wan0', 'nodad');
  topo.node.ip('-6', 'addr', 'del', '2001:db8:1::2/64', 'dev', 'wan0');
  t.match(await sent.next(), /2001:db8:1::3\.\d+ > /, 'sent again from the new address');
  const r = await pending;
  t.equal(r.status, 'NOERROR');
  t.match(r.records[0], /"wan"/);
  const s = statusOf(topo, control);
  const server = serverOf(s, key);
  t.equal(server.timeouts, 0, 'the first attempt did not wait for its timeout (600 s; dig gives up after 120)');
  t.equal(server.queries, 2, 'asked twice: the first attempt and its resend');
  t.equal(s.counters.routeResends, 1, 'one attempt sent again');
  t.equal(s.routes.sourcesGone, 1);
  t.ok(s.routes.poolRenewals >= 1, 'the IPv6 socket pool was renewed');
  t.match(server.route, { reachable: true, source: '2001:db8:1::3' });
  t.match(run.output(), /source 2001:db8:1::2 gone: sending what left from it again/);
});

t.test('the route moves to another uplink: new sockets, queries leave through it from its address', async (t) => {
  const topo = await createTopo(t);
  // A second uplink (as a wwan next to the wired WAN) between the same two namespaces.
  connect(topo.node, 'wan1', topo.isp, 'isp1');
  addAddress(topo.node, 'wan1', '198.51.100.66/28');
  addAddress(topo.isp, 'isp1', '198.51.100.65/28');
  const key = `${resolverV4}:53`;
  const control = join(topo.dir, 'control');
  const run = await startWanDns(t, topo, forwarderArgs({ servers: [resolverV4], control }));
  const dig = (name: string) => digIn(['ip', 'netns', 'exec', topo.node.name], '127.0.0.1', 54, name, 'TXT', '+time=30');
  t.match((await dig('wired.example.test')).records[0], /"wan"/);
  t.match(serverOf(statusOf(topo, control), key).route, { dev: 'wan0', source: '192.0.2.2' });

  const sent = await sniff(t, topo, 'wan1', `udp and dst host ${resolverV4} and dst port 53`);
  topo.node.ip('route', 'replace', 'default', 'via', '198.51.100.65', 'dev', 'wan1', 'table', '1');
  await waitFor('the move in the status', () => serverOf(statusOf(topo, control), key).route.dev === 'wan1', 60_000, 100);
  const r = await dig('moved.example.test');
  t.match(r.records[0], /"wan"/, 'answered through the other uplink');
  t.match(
    await sent.next(),
    /IP 198\.51\.100\.66\.\d+ > 198\.51\.100\.53\.53: .*moved\.example\.test/,
    'left through wan1 from its address',
  );
  const s = statusOf(topo, control);
  t.match(serverOf(s, key).route, { reachable: true, dev: 'wan1', gateway: '198.51.100.65', source: '198.51.100.66' });
  t.equal(s.routes.poolRenewals, 1, 'the IPv4 socket pool was renewed');
  t.equal(s.counters.servfail, 0);
  t.match(
    run.output(),
    /route moved \(reachable via 192\.0\.2\.1 dev wan0 .* -> reachable via 198\.51\.100\.65 dev wan1 .*src 198\.51\.100\.66\)/,
  );
});
