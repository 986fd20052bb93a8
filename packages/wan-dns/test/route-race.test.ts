// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * Issue #17, the interleavings of a renumbering forced in order, in this process on loopback: the test calls the
 * route hooks' effects (pool renewal, source gone) itself, holds the upstream's answers, and moves the pools'
 * drain clock, so nothing depends on how fast the machine is.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import t from 'tap';
import { isRoot, type Teardowns, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { fakeUpstream, query, udpExchange } from './lib/client.js';
import { startDaemon, v4 } from './lib/daemon.js';

requireParts(!isRoot() && 'needs root (SO_MARK)');
t.setTimeout(600_000);

/** A fake upstream that answers only when told: `answer(i)` answers the i-th query it received. */
async function heldUpstream(t: Teardowns) {
  const got: { msg: Buffer; rinfo: RemoteInfo }[] = [];
  let sock: Socket | undefined;
  const up = await fakeUpstream(t, (msg, rinfo, socket) => {
    sock = socket;
    got.push({ msg, rinfo });
  });
  return {
    port: up.port,
    got,
    answer(i: number): void {
      const q = got[i];
      if (q === undefined || sock === undefined) throw new Error(`no query ${i} received`);
      const parsed = dnsPacket.decode(q.msg);
      const answer = dnsPacket.encode({
        type: 'response',
        id: parsed.id,
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
        questions: parsed.questions,
        answers: [{ type: 'TXT', name: parsed.questions?.[0]?.name ?? '', ttl: 60, data: 'wan' }],
      });
      sock.send(answer, q.rinfo.port, q.rinfo.address);
    },
  };
}

async function setup(t: Teardowns) {
  const up = await heldUpstream(t);
  let clock = 0;
  // Attempts never time out by themselves here: every step is the test's.
  const d = await startDaemon(t, {
    sources: { servers: [v4('127.0.0.1', up.port)], root: '/nonexistent', resolvFile: '/nonexistent' },
    deadlineMs: 600_000,
    attemptTimeoutMs: 600_000,
    poolClock: () => clock,
  });
  const server = d.daemon.upstreams.list()[0];
  if (server === undefined) throw new Error('no server');
  return {
    up,
    d,
    server,
    setClock: (ms: number): void => {
      clock = ms;
    },
  };
}

const txt = (answer: Buffer | undefined): string => {
  if (answer === undefined) return 'no answer';
  const a = dnsPacket.decode(answer) as dnsPacket.DecodedPacket & { rcode?: string };
  return `${a.rcode} ${JSON.stringify((a.answers ?? []).map((r) => ('data' in r ? String(r.data) : '')))}`;
};

t.test('a resend on a socket that a later renewal drains outlives an earlier renewal’s drain end', async (t) => {
  const { up, d, server, setClock } = await setup(t);
  const pool = d.daemon.pools[4];
  server.routeSource = '192.0.2.2';
  const client = udpExchange('127.0.0.1', d.port, query('race.example.test', 'TXT'), 60_000);
  await waitFor('the first attempt upstream', () => up.got.length === 1, 30_000);

  // Renewal A at 0 (the route moved): the first attempt's socket drains until 3000.
  setClock(0);
  await pool.renew(3000);
  // At 2000 the old source leaves the node: the attempt is sent again on a socket of the pool renewal A made;
  // then (the same evaluation) the route moves once more and renewal B drains that socket until 5000.
  setClock(2000);
  server.routeSource = '192.0.2.3';
  t.equal(d.daemon.forwarder.sourceGone(server, '192.0.2.2'), 1, 'one attempt sent again');
  await pool.renew(3000);
  await waitFor('the resend upstream', () => up.got.length === 2, 30_000);
  // Renewal A's drain is over, B's is not: the resend's socket must stay open with its attempt.
  setClock(3001);
  pool.sweep();
  t.equal(pool.pendingAttempts().length, 1, 'the resent attempt is still pending on its draining socket');
  up.answer(1);
  t.equal(txt(await client), 'NOERROR ["wan"]', 'the answer to the resend reaches the client');
  const s = d.daemon.status();
  t.equal(s.servers[0]?.timeouts, 0, 'no attempt waited for its timeout');
  t.equal(s.counters.servfail, 0);
  t.equal(s.counters.strayAnswers, 0);
  // B's drain over too: every draining socket is closed.
  setClock(5001);
  pool.sweep();
  t.equal(pool.pendingAttempts().length, 0);
});

t.test('the source vanishes: only attempts that left from it are sent again', async (t) => {
  const { up, d, server } = await setup(t);
  server.routeSource = '192.0.2.2';
  const first = udpExchange('127.0.0.1', d.port, query('old.example.test', 'TXT'), 60_000);
  await waitFor('the first query upstream', () => up.got.length === 1, 30_000);
  // The route's source moved: a query sent now leaves from the new address (a retry after a timeout, say).
  server.routeSource = '192.0.2.3';
  const second = udpExchange('127.0.0.1', d.port, query('new.example.test', 'TXT'), 60_000);
  await waitFor('the second query upstream', () => up.got.length === 2, 30_000);
  t.equal(d.daemon.forwarder.sourceGone(server, '192.0.2.2'), 1, 'only the attempt from the vanished source');
  await waitFor('the resend upstream', () => up.got.length === 3, 30_000);
  t.match(dnsPacket.decode(up.got[2]?.msg as Buffer).questions?.[0]?.name, /^old\.example\.test$/i);
  // The answer to the attempt sent from the new source still counts: it was not retired.
  up.answer(1);
  t.equal(txt(await second), 'NOERROR ["wan"]');
  up.answer(2);
  t.equal(txt(await first), 'NOERROR ["wan"]');
  const s = d.daemon.status();
  t.equal(s.counters.strayAnswers, 0, 'no answer was thrown away');
  t.equal(s.counters.routeResends, 1);
  t.equal(s.servers[0]?.timeouts, 0);
});
