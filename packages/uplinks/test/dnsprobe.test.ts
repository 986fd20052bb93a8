// tier: root: network namespaces, SO_MARK or firewall rules
import { createSocket, type Socket } from 'node:dgram';
import { errorAnswer, RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_REFUSED, RCODE_SERVFAIL, walkMessage } from '@meshwan/wan-dns';
import t from 'tap';
import { isRoot, type Teardowns } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { runDnsProbe } from '../src/dnsprobe.js';
import { checkQueryName, encodeQuery, judgeAnswer } from '../src/dnswire.js';

// wan-dns's error answers are Uint8Arrays (it runs on QuickJS, which has no Buffer); the fake upstream speaks Buffer.
const answer = (query: Uint8Array, rcode: number): Buffer =>
  Buffer.from(errorAnswer(query, walkMessage(query, query.length, true).questionEnd, rcode));

t.test('the query: RD set, one question, the name in labels, class IN', async (t) => {
  const q = encodeQuery(0x1234, 'probe.meshwan.test', 16);
  t.equal(
    Buffer.from(q).toString('hex'),
    `12340100000100000000000005${Buffer.from('probe').toString('hex')}07${Buffer.from('meshwan').toString('hex')}04${Buffer.from('test').toString('hex')}0000100001`,
  );
  t.equal(Buffer.from(encodeQuery(1, '.', 2)).toString('hex'), '000101000001000000000000' + '00' + '00020001', 'the root');
  t.same(encodeQuery(1, 'a.', 1), encodeQuery(1, 'a', 1), 'a trailing dot changes nothing');
  t.equal(walkMessage(q, q.length, true).qtype, 16, 'wan-dns reads it back');
  t.equal(checkQueryName('example.org'), undefined);
  t.equal(checkQueryName('.'), undefined);
});

t.test('a reply counts when ID and question match; NOERROR and NXDOMAIN are up, the rest down', async (t) => {
  const q = encodeQuery(7, 'probe.meshwan.test', 16);
  t.same(judgeAnswer(q, answer(q, RCODE_NOERROR)), { ours: true, ok: true, rcode: 'NOERROR' });
  t.same(judgeAnswer(q, answer(q, RCODE_NXDOMAIN)), { ours: true, ok: true, rcode: 'NXDOMAIN' });
  t.same(judgeAnswer(q, answer(q, RCODE_SERVFAIL)), { ours: true, ok: false, rcode: 'SERVFAIL' });
  t.same(judgeAnswer(q, answer(q, RCODE_REFUSED)), { ours: true, ok: false, rcode: 'REFUSED' });
  t.same(judgeAnswer(q, answer(q, 9)), { ours: true, ok: false, rcode: 'RCODE 9' });
  t.match(judgeAnswer(q, q), { ours: false, why: /QR clear/ }, 'our own query echoed back');
  t.match(judgeAnswer(q, answer(encodeQuery(8, 'probe.meshwan.test', 16), 0)), { ours: false, why: /ID 8/ });
  t.match(judgeAnswer(q, answer(encodeQuery(7, 'other.meshwan.test', 16), 0)), { ours: false, why: /question differs/ });
  t.match(judgeAnswer(q, answer(encodeQuery(7, 'probe.meshwan.test', 1), 0)), { ours: false, why: /question differs/ });
  t.match(judgeAnswer(q, Buffer.from([0, 7, 0x80])), { ours: false, why: /shorter than the 12-byte header/ });
  const upper = answer(encodeQuery(7, 'PROBE.meshwan.test', 16), 0);
  t.match(judgeAnswer(q, upper), { ours: true, ok: true }, 'names compare case-insensitively (0x20 randomisation)');
});

/** A DNS server on loopback that answers each query as `respond` says (undefined: stays silent). */
function fakeServer(t: Teardowns, respond: (q: Buffer) => Buffer[] | undefined): Promise<{ port: number; queries: Buffer[] }> {
  const s: Socket = createSocket('udp6');
  const queries: Buffer[] = [];
  t.teardown(() => {
    s.close();
  });
  s.on('message', (msg, from) => {
    queries.push(msg);
    for (const r of respond(msg) ?? []) s.send(r, from.port, from.address);
  });
  return new Promise((resolve) => s.bind(0, '::1', () => resolve({ port: s.address().port, queries })));
}

requireParts(isRoot() ? false : 'needs root: SO_MARK takes CAP_NET_ADMIN');
const base = {
  uplink: 'wan',
  family: 6 as const,
  target: '::1',
  mark: 0x100,
  timeoutMs: 10_000, // generous: an answer on a busy machine may be slow
  count: 1,
  name: 'probe.meshwan.test',
  qtype: 16,
};

t.test('runDnsProbe: marked query on loopback, verdicts by RCODE, strays ignored, silence times out', async (t) => {
  const ok = await fakeServer(t, (q) => [answer(q, RCODE_NXDOMAIN)]);
  const r1 = await runDnsProbe({ ...base, port: ok.port });
  t.match(r1, { target: '::1', ok: true, detail: /^NXDOMAIN in [\d.]+ ms$/ });
  t.equal(typeof r1.rttMs, 'number');
  t.equal(walkMessage(ok.queries[0] as Buffer, (ok.queries[0] as Buffer).length, true).qtype, 16);

  const refused = await fakeServer(t, (q) => [answer(q, RCODE_REFUSED)]);
  t.match(await runDnsProbe({ ...base, port: refused.port }), { ok: false, rttMs: undefined, detail: 'REFUSED from ::1' });

  // A forged reply (wrong ID) first, then the real one: the forgery is ignored, not taken as a verdict.
  const forged = await fakeServer(t, (q) => {
    const wrong = Buffer.from(q);
    wrong.writeUInt16BE((q.readUInt16BE(0) + 1) & 0xffff, 0);
    return [answer(wrong, RCODE_SERVFAIL), answer(q, RCODE_NOERROR)];
  });
  t.match(await runDnsProbe({ ...base, port: forged.port }), { ok: true, detail: /^NOERROR/ });

  // Answers are waited for generously above (a busy machine); silence needs only a short timeout to show.
  const silent = await fakeServer(t, () => undefined);
  t.match(await runDnsProbe({ ...base, timeoutMs: 400, port: silent.port }), { ok: false, detail: 'no DNS reply within 400 ms' });
  const onlyForged = await fakeServer(t, (q) => {
    const wrong = Buffer.from(q);
    wrong.writeUInt16BE((q.readUInt16BE(0) + 1) & 0xffff, 0);
    return [answer(wrong, RCODE_NOERROR)];
  });
  t.match(await runDnsProbe({ ...base, timeoutMs: 400, port: onlyForged.port }), {
    ok: false,
    detail: /no DNS reply within 400 ms \(ignored a reply: ID \d+ is not the query's\)/,
  });

  const three = await fakeServer(t, (q) => (three.queries.length === 3 ? [answer(q, RCODE_NOERROR)] : undefined));
  t.match(await runDnsProbe({ ...base, port: three.port, count: 3 }), { ok: true }, 'count 3: any one answer is enough');
  t.equal(three.queries.length, 3);
  t.not(three.queries[0]?.readUInt16BE(0), undefined);
});
