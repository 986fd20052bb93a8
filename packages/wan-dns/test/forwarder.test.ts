// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The forwarder end to end on loopback, in this process: NSD as the real upstream, fake upstreams for the
 * failure cases, dig as the witness. (Marking and routing through table 1 are proven in netns.test.ts.)
 */
import { createConnection, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import t from 'tap';
import { isRoot } from '../../../test/lib/netns.js';
import { startNsd } from '../../../test/lib/nsd.js';
import { requireParts } from '../../../test/lib/require.js';
import { MarkError } from '../src/errors.js';
import { deadPort, dig, fakeUpstream, query, tcpExchange, udpExchange } from './lib/client.js';
import { startDaemon, v4 } from './lib/daemon.js';
import { exampleZone } from './lib/zone.js';

const root = isRoot();
requireParts(!root && 'needs root (SO_MARK)');

// Namespaces, NSD and real timeouts on a shared, busy machine: more than tap's default 30 s per file.
t.setTimeout(600_000);

t.test('answers over UDP and TCP on the IPv4 and IPv6 listeners', async (t) => {
  const nsd = await startNsd(t, exampleZone('nsd-a'), { addresses: ['127.0.0.1'], port: await deadPort() });
  const { port, daemon } = await startDaemon(t, {
    sources: { servers: [v4('127.0.0.1', nsd.port)], root: '/nonexistent', resolvFile: '/nonexistent' },
  });
  for (const server of ['127.0.0.1', '::1']) {
    for (const transport of ['+notcp', '+tcp']) {
      const r = await dig(server, port, 'www.example.test', 'A', transport);
      t.equal(r.status, 'NOERROR', `${server} ${transport}`);
      t.match(r.records[0], /www\.example\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.80/);
    }
  }
  t.equal((await dig('127.0.0.1', port, 'nope.nope.test', 'A')).status, 'REFUSED', 'NSD refuses other zones; passed through');
  const nx = await dig('127.0.0.1', port, 'nx.www.example.test', 'A');
  t.equal(nx.status, 'NXDOMAIN');
  // Pipelined TCP: several queries on one connection, all answered.
  const qs = ['www', 'ns', 'who', 'a', 'b', 'c'].map((n) => query(`${n}.example.test`));
  const answers = await tcpExchange('127.0.0.1', port, qs);
  t.equal(answers.length, qs.length);
  t.same(answers.map((a) => a.readUInt16BE(0)).sort(), qs.map((q) => q.readUInt16BE(0)).sort(), 'client IDs restored');
  t.equal(daemon.status().counters.tcpQueries >= 8, true);
});

t.test('a truncated UDP answer is retried over TCP; a client without EDNS gets TC', async (t) => {
  const nsd = await startNsd(t, exampleZone('nsd-big'), { addresses: ['127.0.0.1'], port: await deadPort() });
  const { port, daemon } = await startDaemon(t, {
    sources: { servers: [v4('127.0.0.1', nsd.port)], root: '/nonexistent', resolvFile: '/x' },
  });
  const big = await dig('127.0.0.1', port, 'big.example.test', 'TXT', '+bufsize=4096', '+ignore');
  t.equal(big.status, 'NOERROR');
  t.equal(big.answers.length, 24, 'whole answer over UDP to an EDNS client');
  t.notMatch(big.flags, /\btc\b/);
  const small = await dig('127.0.0.1', port, 'big.example.test', 'TXT', '+noedns', '+ignore');
  t.match(small.flags, /\btc\b/, 'TC for a 512-byte client');
  const viaTcp = await dig('127.0.0.1', port, 'big.example.test', 'TXT', '+noedns');
  t.equal(viaTcp.answers.length, 24, 'dig falls back to TCP and gets it all');
  t.ok(daemon.status().counters.tcpRetries >= 1);
  t.ok((daemon.status().servers[0]?.tcp ?? 0) >= 1);
});

t.test('cache: TTLs count down, negative answers for the SOA minimum, hits counted', async (t) => {
  const nsd = await startNsd(t, exampleZone('nsd-c'), { addresses: ['127.0.0.1'], port: await deadPort() });
  const { port, daemon } = await startDaemon(t, {
    cacheSize: 100,
    sources: { servers: [v4('127.0.0.1', nsd.port)], root: '/nonexistent', resolvFile: '/x' },
  });
  const first = await dig('127.0.0.1', port, 'short.example.test');
  t.match(first.records[0], /\s5\s+IN\s+A/);
  await new Promise((r) => setTimeout(r, 2100));
  const second = await dig('127.0.0.1', port, 'short.example.test');
  t.match(second.records[0], /\s[23]\s+IN\s+A/, 'decremented TTL from the cache');
  const nx1 = await dig('127.0.0.1', port, 'nx.www.example.test');
  t.equal(nx1.status, 'NXDOMAIN');
  t.match(nx1.output, /example\.test\.\s+60\s+IN\s+SOA/);
  await new Promise((r) => setTimeout(r, 1100));
  const nx2 = await dig('127.0.0.1', port, 'NX.www.example.test');
  t.equal(nx2.status, 'NXDOMAIN');
  t.match(nx2.output, /example\.test\.\s+5\d\s+IN\s+SOA/, 'negative answer from the cache, case-insensitive');
  t.match(nx2.output, /NX\.www\.example\.test/, 'question echoed as asked');
  const st = daemon.status();
  t.equal(st.counters.cacheHits, 2);
  t.equal(st.cacheEntries, 2);
  t.equal(st.servers[0]?.answers, 2);
});

t.test('failover: dead server, SERVFAIL and REFUSED servers are passed over; spoofed answers ignored', async (t) => {
  const nsd = await startNsd(t, exampleZone('nsd-f'), { addresses: ['127.0.0.1'], port: await deadPort() });
  const refusing = await fakeUpstream(t, (msg, rinfo, s) => {
    const out = Buffer.from(msg);
    out.writeUInt16BE(0x8005, 2);
    s.send(out, rinfo.port, rinfo.address);
  });
  const failing = await fakeUpstream(t, (msg, rinfo, s) => {
    const out = Buffer.from(msg.subarray(0, 12));
    out.writeUInt16BE(0x8002, 2);
    out.writeUInt16BE(0, 4);
    out.writeUInt16BE(0, 10);
    s.send(out, rinfo.port, rinfo.address);
  });
  const spoofer = await fakeUpstream(t, (msg, rinfo, s) => {
    // Wrong ID, then wrong question, then right ID from the right place but as a query (QR clear): all ignored.
    const answer = dnsPacket.decode(msg);
    const wrongId = dnsPacket.encode({
      ...answer,
      type: 'response',
      id: (answer.id ?? 0) ^ 1,
      answers: [{ type: 'A', name: 'www.example.test', data: '203.0.113.66' }],
    });
    const wrongQ = dnsPacket.encode({
      ...answer,
      type: 'response',
      questions: [{ type: 'A', name: 'evil.test' }],
      answers: [{ type: 'A', name: 'evil.test', data: '203.0.113.66' }],
    });
    const notResponse = Buffer.from(msg);
    for (const m of [wrongId, wrongQ, notResponse, Buffer.from([1])]) s.send(m, rinfo.port, rinfo.address);
  });
  const dead = await deadPort();
  const servers = [
    v4('127.0.0.1', dead),
    v4('127.0.0.1', refusing.port),
    v4('127.0.0.1', failing.port),
    v4('127.0.0.1', spoofer.port),
    v4('127.0.0.1', nsd.port),
  ];
  const { port, daemon } = await startDaemon(t, { sources: { servers, root: '/nonexistent', resolvFile: '/x' } });
  const r = await dig('127.0.0.1', port, 'www.example.test');
  t.equal(r.status, 'NOERROR');
  t.match(r.records[0], /192\.0\.2\.80/);
  const st = daemon.status();
  const by = new Map(st.servers.map((s) => [s.server, s]));
  t.equal(by.get(`127.0.0.1:${refusing.port}`)?.refused, 1);
  t.equal(by.get(`127.0.0.1:${failing.port}`)?.servfail, 1);
  t.equal(by.get(`127.0.0.1:${spoofer.port}`)?.timeouts, 1);
  t.ok(st.counters.strayAnswers >= 3);
  // The answering server is now the fastest and asked first.
  const again = await dig('127.0.0.1', port, 'www.example.test');
  t.equal(again.status, 'NOERROR');
  t.equal(daemon.upstreams.ordered(performance.now())[0]?.key, `127.0.0.1:${nsd.port}`);
});

t.test('all upstreams failing, or none: SERVFAIL well before the client gives up', async (t) => {
  const silent = await fakeUpstream(t, () => {});
  const { port, daemon } = await startDaemon(t, {
    deadlineMs: 1500,
    sources: { servers: [v4('127.0.0.1', silent.port)], root: '/nonexistent', resolvFile: '/x' },
  });
  const r = await dig('127.0.0.1', port, 'www.example.test', 'A', '+time=4');
  t.equal(r.status, 'SERVFAIL');
  t.ok(silent.received.length >= 1);
  const none = await startDaemon(t);
  const q = query('www.example.test');
  const answer = await udpExchange('127.0.0.1', none.port, q);
  t.equal(answer && (dnsPacket.decode(answer) as { rcode?: string }).rcode, 'SERVFAIL');
  t.equal(answer?.readUInt16BE(0), q.readUInt16BE(0));
  t.match(none.lines.join(''), /no upstream DNS server configured/);
  t.equal(daemon.status().counters.servfail, 1);
});

t.test('no marked socket: nothing sent, SERVFAIL, one log line, counted', async (t) => {
  const upstream = await fakeUpstream(t, () => {});
  const { port, daemon, lines } = await startDaemon(t, {
    addon: new MarkError('load', 0, 'ENOENT'),
    sources: { servers: [v4('127.0.0.1', upstream.port)], root: '/nonexistent', resolvFile: '/x' },
  });
  for (let i = 0; i < 3; i++) t.equal((await dig('127.0.0.1', port, 'www.example.test')).status, 'SERVFAIL');
  t.equal(upstream.received.length, 0, 'the upstream saw nothing');
  const st = daemon.status();
  t.equal(st.markedSockets, 0);
  t.equal(st.counters.refusedUnmarked, 3);
  t.equal(lines.filter((l) => /no IPv4 upstream socket carries the WAN mark 0x1/.test(l)).length, 1, 'logged once');
  t.match(lines.join(''), /cannot mark upstream socket with 0x1: load: ENOENT/);
});

t.test('a bug on the query path is logged once and counted, never fatal', async (t) => {
  const { daemon, lines, port } = await startDaemon(t);
  daemon.forwarder.internalError(new Error('boom\n    at somewhere'));
  daemon.forwarder.internalError(new Error('again'));
  t.equal(daemon.status().counters.internalErrors, 2);
  t.equal(lines.filter((l) => /err: internal error, query dropped: Error: boom \| at somewhere/.test(l)).length, 1);
  t.equal((await dig('127.0.0.1', port, 'www.example.test')).status, 'SERVFAIL', 'still answering');
});

t.test(
  'TCP limits: at the limit the oldest idle connection makes room, idle ones are closed, pipelining beyond the window waits',
  async (t) => {
    const nsd = await startNsd(t, exampleZone('nsd-tcp'), { addresses: ['127.0.0.1'], port: await deadPort() });
    const { port, daemon } = await startDaemon(t, {
      tcp: { maxConnections: 2, initialTimeoutMs: 500, idleTimeoutMs: 500, maxPipelined: 2 },
      sources: { servers: [v4('127.0.0.1', nsd.port)], root: '/nonexistent', resolvFile: '/x' },
    });
    const open = (): Promise<Socket> =>
      new Promise((resolve) => {
        const s = createConnection({ host: '127.0.0.1', port }, () => resolve(s));
        s.on('error', () => {});
      });
    const a = await open();
    const b = await open();
    const c = await open();
    const closed = (s: Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.on('close', () => resolve())));
    await closed(a);
    t.equal(daemon.status().counters.tcpEvicted, 1, "the third connection took the oldest idle one's place");
    t.equal(daemon.status().counters.tcpRefused, 0);
    await Promise.all([closed(b), closed(c)]);
    t.pass('idle connections closed after the idle timeout');
    t.equal(daemon.status().counters.tcpTimeouts, 2);
    // Five pipelined queries with a window of two: all answered.
    const qs = ['p1', 'p2', 'p3', 'p4', 'p5'].map((n) => query(`${n}.example.test`));
    const answers = await tcpExchange('127.0.0.1', port, qs);
    t.equal(answers.length, 5);
  },
);
