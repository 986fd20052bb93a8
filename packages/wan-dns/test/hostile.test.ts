// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * Issue #17, "hostile DNS", on loopback in this process: clients that randomise the case of their names (DNS
 * 0x20), a flood of idle TCP connections from one and from several addresses, and an upstream path on which
 * forged answers arrive before the genuine one. Every wait is for an event (a counter, a datagram, a close).
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import t from 'tap';
import { isRoot, type Teardowns, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import type { Daemon } from '../src/daemon.js';
import { walkMessage } from '../src/wire.js';
import { dig, fakeUpstream, query, udpExchange } from './lib/client.js';
import { startDaemon, v4 } from './lib/daemon.js';

const root = isRoot();
requireParts(!root && 'needs root (SO_MARK)');
t.setTimeout(180_000);

/** A query for `name` spelled exactly so (dns-packet keeps the case). */
function spelled(name: string): Buffer {
  return query(name, 'A', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer] });
}

/** The question section's bytes of a message. */
function questionBytes(msg: Buffer): Buffer {
  return msg.subarray(12, walkMessage(msg, msg.length, false).questionEnd);
}

/** An answer to `msg` in the upstream's own spelling: question lowercased, owner uppercased, no compression. */
function normalisingAnswer(msg: Buffer): Buffer {
  const q = dnsPacket.decode(msg);
  const name = q.questions?.[0]?.name ?? '';
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: 'A', name: name.toLowerCase() }],
    answers: [{ type: 'A', name: name.toUpperCase(), ttl: 300, data: '192.0.2.42' }],
  });
}

t.test('DNS 0x20: every client gets its own spelling, on coalesced misses and on cache hits', async (t) => {
  // Holds its answers until both concurrent misses have arrived, so they are in flight together.
  const held: [Buffer, RemoteInfo][] = [];
  const upstream = await fakeUpstream(t, (msg, rinfo, s) => {
    held.push([msg, rinfo]);
    if (held.length < 2) return;
    for (const [m, r] of held.splice(0)) s.send(normalisingAnswer(m), r.port, r.address);
  });
  const { port, daemon } = await startDaemon(t, {
    cacheSize: 100,
    sources: { servers: [v4('127.0.0.1', upstream.port)], root: '/nonexistent', resolvFile: '/x' },
  });
  const spellings = ['h42.BENCH.test', 'H42.bEnCh.TEST'];
  const queries = spellings.map(spelled);
  const answers = await Promise.all(queries.map((q) => udpExchange('127.0.0.1', port, q, 5000)));
  t.equal(upstream.received.length, 2, 'both were misses sent upstream');
  for (let i = 0; i < 2; i++) {
    const a = answers[i] as Buffer;
    t.ok(a, `${spellings[i]} answered`);
    t.same(questionBytes(a), questionBytes(queries[i] as Buffer), `miss: question echoed byte for byte (${spellings[i]})`);
    t.equal(dnsPacket.decode(a).answers?.[0]?.name, spellings[i], 'miss: the owner equal to QNAME in the client spelling');
  }
  // Now from the cache, which holds the upstream's spelling: a third and a fourth spelling.
  for (const name of ['h42.bench.test', 'H42.BeNcH.tEsT']) {
    const q = spelled(name);
    const a = (await udpExchange('127.0.0.1', port, q, 5000)) as Buffer;
    t.ok(a, `${name} answered`);
    t.same(questionBytes(a), questionBytes(q), `hit: question echoed byte for byte (${name})`);
    const p = dnsPacket.decode(a);
    t.equal(p.answers?.[0]?.name, name, 'hit: the owner in the client spelling');
    t.equal(p.id, q.readUInt16BE(0));
  }
  t.equal(upstream.received.length, 2, 'the later ones were cache hits');
  t.equal(daemon.status().counters.cacheHits, 2);
});

/** Opens a TCP connection from `from`; resolves once connected. */
function openFrom(t: Teardowns, port: number, from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port, localAddress: from }, () => resolve(s));
    s.once('error', reject);
    t.teardown(() => {
      s.destroy();
    });
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));
}

/** Opens connections one by one, each admitted by the daemon before the next (so the eviction order is known). */
async function flood(t: Teardowns, daemon: Daemon, port: number, sources: readonly string[]): Promise<Socket[]> {
  const out: Socket[] = [];
  for (const from of sources) {
    const accepted = daemon.counters.tcpConnections + 1;
    out.push(await openFrom(t, port, from));
    await waitFor('the daemon to accept the connection', () => daemon.counters.tcpConnections >= accepted, 10_000, 1);
  }
  return out;
}

/**
 * One query on a fresh TCP connection from `from`; the answer, or undefined after `deadlineMs`. With `keep`
 * the connection stays open after the answer (it holds its slot), closed at teardown.
 */
function freshTcpQuery(port: number, from: string, msg: Buffer, deadlineMs: number, keep?: Teardowns): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port, localAddress: from });
    keep?.teardown(() => {
      s.destroy();
    });
    let buf = Buffer.alloc(0);
    let settled = false;
    const done = (answer: Buffer | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (answer === undefined || keep === undefined) s.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), deadlineMs);
    s.on('error', () => done(undefined));
    s.on('close', () => done(undefined));
    s.on('connect', () => {
      const framed = Buffer.alloc(2 + msg.length);
      framed.writeUInt16BE(msg.length, 0);
      msg.copy(framed, 2);
      s.write(framed);
    });
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
  });
}

async function floodDaemon(t: Teardowns): Promise<{ daemon: Daemon; port: number }> {
  const upstream = await fakeUpstream(t, (msg, rinfo, s) => s.send(normalisingAnswer(msg), rinfo.port, rinfo.address));
  // The router defaults (64, 16 per client); timeouts long enough that only the caps close anything here.
  return startDaemon(t, {
    tcp: { maxConnections: 64, maxPerClient: 16, initialTimeoutMs: 120_000, idleTimeoutMs: 120_000, maxPipelined: 4 },
    sources: { servers: [v4('127.0.0.1', upstream.port)], root: '/nonexistent', resolvFile: '/x' },
  });
}

t.test('200 idle TCP connections from one address: it keeps 16, and a fresh query is answered', async (t) => {
  const { daemon, port } = await floodDaemon(t);
  const conns = await flood(t, daemon, port, Array<string>(200).fill('127.0.0.1'));
  await Promise.all(conns.slice(0, 184).map(closed));
  t.pass('the 184 least recently active were closed');
  t.equal(conns.slice(184).filter((s) => s.closed).length, 0, 'the newest 16 are open');
  const c = daemon.status().counters;
  t.equal(c.tcpEvictedClient, 184, 'evicted by the per-client cap');
  t.equal(c.tcpEvicted, 0, 'the global cap was never reached');
  t.equal(c.tcpRefused, 0);
  t.equal(daemon.tcpConns.countFrom('127.0.0.1'), 16);
  const q = spelled('fresh.example.test');
  const started = performance.now();
  const answer = await freshTcpQuery(port, '127.0.0.1', q, 2000);
  t.ok(answer, `a fresh TCP query from the flooding address is answered (${Math.round(performance.now() - started)} ms)`);
  t.equal(answer?.readUInt16BE(0), q.readUInt16BE(0));
  await closed(conns[184] as Socket);
  t.pass('to admit it, the least recently active idle connection of its address was closed');
  t.equal(daemon.status().counters.tcpEvictedClient, 185);
  t.equal(conns.slice(185).filter((s) => s.closed).length, 0, 'no other');
});

t.test('200 idle TCP connections from eight addresses: the global cap evicts the oldest idle', async (t) => {
  const { daemon, port } = await floodDaemon(t);
  const sources = Array.from({ length: 200 }, (_, i) => `127.0.0.${2 + (i % 8)}`);
  const conns = await flood(t, daemon, port, sources);
  await Promise.all(conns.slice(0, 136).map(closed));
  t.pass('the 136 oldest were closed');
  const c = daemon.status().counters;
  t.equal(c.tcpEvicted, 136, 'evicted by the global cap of 64');
  t.equal(c.tcpEvictedClient, 0, 'no address reached 16');
  t.equal(daemon.tcpConns.size, 64);
  // A new address, and the flooding ones: each answered, each evicting the oldest idle connection left.
  for (const [i, from] of ['127.0.0.20', '127.0.0.2', '127.0.0.1'].entries()) {
    // Kept open: each holds its slot, so the next one must evict again.
    const answer = await freshTcpQuery(port, from, spelled(`fresh${i}.example.test`), 2000, t);
    t.ok(answer, `a fresh TCP query from ${from} is answered`);
    await closed(conns[136 + i] as Socket);
    t.equal(daemon.status().counters.tcpEvicted, 137 + i, `connection ${136 + i}, the oldest, was evicted`);
  }
  t.equal(conns.slice(139).filter((s) => s.closed).length, 0, 'the newer ones stay');
});

t.test('an idle connection is closed by the initial timeout; one with a query waiting is not evicted', async (t) => {
  const later: (() => void)[] = [];
  const upstream = await fakeUpstream(t, (msg, rinfo, s) => {
    later.push(() => s.send(normalisingAnswer(msg), rinfo.port, rinfo.address));
  });
  const { daemon, port } = await startDaemon(t, {
    deadlineMs: 60_000,
    tcp: { maxConnections: 2, maxPerClient: 2, initialTimeoutMs: 300, idleTimeoutMs: 120_000, maxPipelined: 4 },
    sources: { servers: [v4('127.0.0.1', upstream.port)], root: '/nonexistent', resolvFile: '/x' },
  });
  const idle = await openFrom(t, port, '127.0.0.1');
  await closed(idle);
  t.equal(daemon.status().counters.tcpTimeouts, 1, 'no query within the initial timeout: closed');
  // Two connections waiting on the upstream fill the caps: a third is refused, nothing busy is evicted.
  const waiting = [spelled('w1.example.test'), spelled('w2.example.test')].map((q) => freshTcpQuery(port, '127.0.0.1', q, 60_000));
  await waitFor('both queries upstream', () => upstream.received.length === 2);
  const refused = await freshTcpQuery(port, '127.0.0.1', spelled('w3.example.test'), 5000);
  t.equal(refused, undefined, 'refused: both connections are busy');
  t.equal(daemon.status().counters.tcpRefused, 1);
  t.equal(daemon.status().counters.tcpEvictedClient, 0);
  for (const answer of later) answer();
  t.equal((await Promise.all(waiting)).filter((a) => a !== undefined).length, 2, 'the busy connections got their answers');
});

/** A socket bound to `address` (port 0: any), closed at teardown. */
async function udpFrom(t: Teardowns, address: string, port = 0): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(port, address, () => resolve()));
  t.teardown(() => {
    s.close();
  });
  return s;
}

t.test('forged answers (wrong ID, port, address or question) are dropped and counted; the genuine late answer wins', async (t) => {
  const sent: { msg: Buffer; rinfo: RemoteInfo }[] = [];
  const upstream = await fakeUpstream(t, (msg, rinfo) => {
    sent.push({ msg, rinfo });
  });
  const otherPort = await udpFrom(t, '127.0.0.1');
  const otherAddress = await udpFrom(t, '127.0.0.2', upstream.port);
  const { port, daemon } = await startDaemon(t, {
    deadlineMs: 5000,
    sources: { servers: [v4('127.0.0.1', upstream.port)], root: '/nonexistent', resolvFile: '/x' },
  });
  const pending = dig('127.0.0.1', port, 'www.example.test', 'A', '+time=8');
  await waitFor('the query upstream', () => sent.length >= 1);
  const first = sent[0] as { msg: Buffer; rinfo: RemoteInfo };
  const genuine = normalisingAnswer(first.msg);
  const wrongId = Buffer.from(genuine);
  wrongId.writeUInt16BE(genuine.readUInt16BE(0) ^ 0x8000, 0);
  const wrongQuestion = dnsPacket.encode({
    ...dnsPacket.decode(genuine),
    questions: [{ type: 'A', name: 'evil.test' }],
    answers: [{ type: 'A', name: 'evil.test', ttl: 300, data: '203.0.113.66' }],
  });
  const to = first.rinfo;
  upstream.socket.send(wrongId, to.port, to.address);
  otherPort.send(genuine, to.port, to.address);
  otherAddress.send(genuine, to.port, to.address);
  upstream.socket.send(wrongQuestion, to.port, to.address);
  await waitFor('the forgeries counted', () => daemon.counters.forgedAnswers >= 3 && daemon.counters.strayAnswers >= 4);
  // The point where the forwarder used to give up: its attempt timer fired, the retry's too.
  await waitFor('both attempts past their own timeouts', () => (daemon.status().servers[0]?.timeouts ?? 0) >= 2);
  t.equal(daemon.counters.servfail, 0, 'no SERVFAIL while the deadline is ahead');
  upstream.socket.send(genuine, to.port, to.address);
  const r = await pending;
  t.equal(r.status, 'NOERROR', 'the genuine answer, late, is taken');
  t.match(r.records[0], /192\.0\.2\.42/);
  const c = daemon.status().counters;
  t.equal(c.forgedAnswers, 3, 'wrong port, wrong address, wrong question');
  t.ok(c.strayAnswers >= 4, 'the wrong ID counted stray');
  t.equal(c.servfail, 0);
  t.equal(daemon.status().servers[0]?.answers, 1, 'the late answer updates the server (its SRTT grows)');
});
