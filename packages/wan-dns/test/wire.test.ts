import dnsPacket from 'dns-packet';
import t from 'tap';
import { DecodeError } from '../src/errors.js';
import { truncate } from '../src/forwarder.js';
import {
  cacheKey,
  clampUdpSize,
  clientUdpLimit,
  echoQuestion,
  errorAnswer,
  FLAG_QR,
  FLAG_TC,
  qnameCopies,
  RCODE_SERVFAIL,
  sameQuestion,
  ttlOffsets,
  walkMessage,
} from '../src/wire.js';

const query = (name: string, opts: Partial<dnsPacket.Packet> = {}): Buffer =>
  dnsPacket.encode({ type: 'query', id: 0x1234, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }], ...opts });

/** A response (id 7) to an A question for `name`, with an OPT record of 1232 bytes in the additional section. */
const ednsResponse = (name: string, answers: dnsPacket.Answer[], authorities: dnsPacket.Answer[]): Buffer =>
  dnsPacket.encode({
    type: 'response',
    id: 7,
    questions: [{ type: 'A', name }],
    answers,
    authorities,
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer],
  });

t.test('walks a query: id, question, no OPT', async (t) => {
  const q = query('www.Example.test');
  const info = walkMessage(q, q.length, true);
  t.equal(info.id, 0x1234);
  t.equal(info.qdcount, 1);
  t.equal(info.qtype, 1);
  t.equal(info.qclass, 1);
  t.equal(info.questionEnd, q.length);
  t.equal(info.optOffset, -1);
  t.equal(clientUdpLimit(info), 512);
});

t.test('finds the OPT record, its size and DO bit; clamps the size in place', async (t) => {
  const q = query('a.test', {
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: dnsPacket.DNSSEC_OK } as dnsPacket.Answer],
  });
  const info = walkMessage(q, q.length, true);
  t.equal(info.udpSize, 4096);
  t.equal(info.dnssecOk, true);
  t.equal(clientUdpLimit(info), 4096);
  clampUdpSize(q, info);
  t.equal(walkMessage(q, q.length, true).udpSize, 1232);
  const small = query('a.test', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 100 } as dnsPacket.Answer] });
  const smallInfo = walkMessage(small, small.length, true);
  t.equal(clientUdpLimit(smallInfo), 512);
  clampUdpSize(small, smallInfo);
  t.equal(walkMessage(small, small.length, true).udpSize, 512);
  const fine = query('a.test', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer] });
  const before = Buffer.from(fine);
  clampUdpSize(fine, walkMessage(fine, fine.length, true));
  t.same(fine, before);
  const none = query('a.test');
  clampUdpSize(none, walkMessage(none, none.length, true));
  t.same(none, query('a.test'));
});

t.test('malformed messages give a DecodeError with the offset', async (t) => {
  const q = query('www.example.test');
  const cases: [string, Buffer, boolean, RegExp][] = [
    ['short header', q.subarray(0, 11), true, /shorter than the 12-byte header at offset 0/],
    ['name past end', q.subarray(0, 16), true, /name runs past the end/],
    ['question past end', q.subarray(0, q.length - 2), true, /question runs past the end/],
    ['two questions', Buffer.concat([q.subarray(0, 4), Buffer.from([0, 2]), q.subarray(6)]), true, /2 questions at offset 4/],
    [
      'pointer in query question',
      Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]),
      true,
      /compression pointer in question at offset 12/,
    ],
    ['bad label type', Buffer.concat([q.subarray(0, 12), Buffer.from([0x41, 0, 0, 1, 0, 1])]), true, /bad label type 0x41/],
    ['truncated pointer', Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0])]), false, /pointer runs past the end/],
    ['record past end', Buffer.concat([q.subarray(0, 6), Buffer.from([0, 1]), q.subarray(8)]), false, /name runs past the end/],
    [
      'long name',
      Buffer.concat([
        q.subarray(0, 12),
        Buffer.from(Array.from({ length: 5 }, () => [63, ...Buffer.alloc(63, 97)]).flat()),
        Buffer.from([0, 0, 1, 0, 1]),
      ]),
      true,
      /longer than 255/,
    ],
  ];
  for (const [name, buf, isQuery, message] of cases) {
    t.throws(() => walkMessage(buf, buf.length, isQuery), message, name);
    try {
      walkMessage(buf, buf.length, isQuery);
    } catch (err: unknown) {
      t.ok(err instanceof DecodeError, `${name}: DecodeError`);
    }
  }
  const rd = dnsPacket.encode({
    type: 'response',
    id: 1,
    questions: [{ type: 'A', name: 'a.test' }],
    answers: [{ type: 'A', name: 'a.test', data: '192.0.2.1' }],
  });
  t.throws(() => walkMessage(rd, rd.length - 1, false), /record data runs past the end/);
  t.throws(() => walkMessage(rd, rd.length - 5, false), /record header runs past the end/);
  const twoOpt = query('a.test', {
    additionals: [
      { type: 'OPT', name: '.', udpPayloadSize: 4096 } as dnsPacket.Answer,
      { type: 'OPT', name: '.', udpPayloadSize: 4096 } as dnsPacket.Answer,
    ],
  });
  t.throws(() => walkMessage(twoOpt, twoOpt.length, true), /second OPT record/);
  const optInAnswer = dnsPacket.encode({
    type: 'response',
    id: 1,
    questions: [{ type: 'A', name: 'a.test' }],
    answers: [{ type: 'OPT', name: '.', udpPayloadSize: 512 } as unknown as dnsPacket.Answer],
  });
  t.throws(() => walkMessage(optInAnswer, optInAnswer.length, false), /OPT record outside the additional section/);
  const withOpt = query('a.test', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as dnsPacket.Answer] });
  const optAt = walkMessage(withOpt, withOpt.length, true).optOffset;
  const namedOpt = Buffer.concat([withOpt.subarray(0, optAt), Buffer.from([1, 0x78, 0]), withOpt.subarray(optAt + 1)]);
  t.throws(() => walkMessage(namedOpt, namedOpt.length, true), /non-root name/);
});

t.test('questions compare case-insensitively, names and types must match', async (t) => {
  const a = query('WWW.example.test');
  const b = query('www.EXAMPLE.test');
  const ia = walkMessage(a, a.length, true);
  const ib = walkMessage(b, b.length, true);
  t.ok(sameQuestion(a, ia.questionEnd, b, ib.questionEnd));
  t.equal(cacheKey(a, ia), cacheKey(b, ib));
  const c = query('www.example.tesu');
  t.notOk(sameQuestion(a, ia.questionEnd, c, walkMessage(c, c.length, true).questionEnd));
  const d = query('ww.example.test');
  t.notOk(sameQuestion(a, ia.questionEnd, d, walkMessage(d, d.length, true).questionEnd));
  // Bytes 0xC0-0xDE must not be folded like latin1 letters.
  const e = Buffer.from(a);
  e[13] = 0xd7;
  const f = Buffer.from(a);
  f[13] = 0xf7;
  t.notOk(sameQuestion(e, ia.questionEnd, f, ia.questionEnd));
  // The cache key folds ASCII only, whatever byte a label holds: each byte value gives the key a byte-at-a-time
  // ASCII lowering gives (toLowerCase would fold 0xC0-0xDE too, and merge names DNS keeps apart).
  const asciiLower = (buf: Uint8Array, end: number) =>
    Array.from(buf.subarray(12, end), (x) => String.fromCharCode(x >= 0x41 && x <= 0x5a ? x | 0x20 : x)).join('');
  for (let byte = 0; byte < 256; byte++) {
    const g = Buffer.from(a);
    g[13] = byte;
    t.equal(cacheKey(g, ia), `${asciiLower(g, ia.questionEnd)}\u0000`, `byte 0x${byte.toString(16)}`);
  }
  const dok = query('www.example.test', {
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnsPacket.DNSSEC_OK } as dnsPacket.Answer],
  });
  t.not(cacheKey(dok, walkMessage(dok, dok.length, true)), cacheKey(a, ia));
});

t.test('error answers and truncation keep ID, opcode, RD and question', async (t) => {
  const q = query('www.example.test', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer] });
  const info = walkMessage(q, q.length, true);
  const sf = errorAnswer(q, info.questionEnd, RCODE_SERVFAIL);
  const decoded = dnsPacket.decode(Buffer.from(sf)) as dnsPacket.DecodedPacket & { rcode?: string };
  t.equal(decoded.id, 0x1234);
  t.equal(decoded.rcode, 'SERVFAIL');
  t.equal(decoded.flag_rd, true);
  t.equal(decoded.questions?.[0]?.name, 'www.example.test');
  t.equal(decoded.additionals?.length, 0);
  const noQuestion = errorAnswer(q, 12, 1);
  t.equal(noQuestion.length, 12);
  t.equal(Buffer.from(noQuestion).readUInt16BE(4), 0);
  const answer = dnsPacket.encode({
    type: 'response',
    id: 7,
    flags: FLAG_QR,
    questions: [{ type: 'A', name: 'www.example.test' }],
    answers: [{ type: 'A', name: 'www.example.test', ttl: 300, data: '192.0.2.80' }],
  });
  const ainfo = walkMessage(answer, answer.length, false);
  const tc = truncate(answer, ainfo.questionEnd);
  const tinfo = walkMessage(tc, tc.length, false);
  t.ok(tinfo.flags & FLAG_TC);
  t.equal(tinfo.ancount, 0);
  t.equal(tinfo.qdcount, 1);
});

t.test('ttlOffsets points at every TTL except the OPT record', async (t) => {
  const www = (ttl: number, data: string): dnsPacket.Answer => ({ type: 'A', name: 'www.example.test', ttl, data });
  const ns: dnsPacket.Answer = { type: 'NS', name: 'example.test', ttl: 100, data: 'ns.example.test' };
  const answer = ednsResponse('www.example.test', [www(300, '192.0.2.80'), www(200, '192.0.2.81')], [ns]);
  const info = walkMessage(answer, answer.length, false);
  const offsets = ttlOffsets(info);
  t.same(
    offsets.map((o) => answer.readUInt32BE(o)),
    [300, 200, 100],
  );
});

t.test('echoes the client spelling of QNAME: question, inline owner names equal to it, not other names', async (t) => {
  // dns-packet writes every name inline (no compression): the case uncompressed owners keep.
  const upstream = ednsResponse(
    'H42.BeNcH.tEsT',
    [
      { type: 'CNAME', name: 'h42.BENCH.test', ttl: 60, data: 'H42.BeNcH.tEsT.Other.Test' },
      { type: 'A', name: 'H42.BeNcH.tEsT.Other.Test', ttl: 60, data: '192.0.2.42' },
    ],
    [{ type: 'NS', name: 'BeNcH.tEsT', ttl: 60, data: 'ns.bench.test' }],
  );
  const client = query('h42.bench.TEST');
  const info = walkMessage(upstream, upstream.length, false);
  const copies = qnameCopies(upstream, info);
  t.same(copies, [upstream.indexOf('h42', 12) - 1, 12, 15], 'the CNAME owner: its three labels in one run');
  const out = Buffer.from(upstream);
  echoQuestion(out, copies, client, walkMessage(client, client.length, true).questionEnd);
  const p = dnsPacket.decode(out);
  t.equal(p.questions?.[0]?.name, 'h42.bench.TEST', 'question as the client asked');
  t.equal(p.answers?.[0]?.name, 'h42.bench.TEST', 'inline owner equal to QNAME takes the client spelling');
  t.equal((p.answers?.[0] as { data: string }).data, 'H42.BeNcH.tEsT.Other.Test', 'CNAME target untouched');
  t.equal(p.answers?.[1]?.name, 'H42.BeNcH.tEsT.Other.Test', 'another owner untouched');
  t.equal(p.authorities?.[0]?.name, 'BeNcH.tEsT', 'a suffix of QNAME is another name: untouched');
});

t.test('echo through compression: pointers to the question, partial pointers, bad pointers', async (t) => {
  const client = query('h42.bench.TEST');
  const qEnd = walkMessage(client, client.length, true).questionEnd;
  const header = Buffer.from([0, 7, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0]);
  const question = Buffer.from([3, 0x48, 0x34, 0x32, 5, ...Buffer.from('BeNcH'), 4, ...Buffer.from('tEsT'), 0, 0, 1, 0, 1]);
  const rr = (name: number[]): number[] => [...name, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 42];
  const msg = Buffer.from([
    ...header,
    ...question,
    ...rr([0xc0, 12]), // the whole name: a pointer to the question
    ...rr([3, 0x68, 0x34, 0x32, 0xc0, 16]), // "h42" inline, then a pointer to "BeNcH.tEsT" in the question
    ...rr([3, 0x78, 0x34, 0x32, 0xc0, 16]), // "x42.bench.test": another name
  ]);
  const info = walkMessage(msg, msg.length, false);
  const copies = qnameCopies(msg, info);
  t.same(copies, [12 + question.length + 16, 12, 4], 'only the inline label of the partly compressed owner');
  echoQuestion(msg, copies, client, qEnd);
  const p = dnsPacket.decode(msg);
  t.same(
    p.answers?.map((a) => a.name),
    ['h42.bench.TEST', 'h42.bench.TEST', 'x42.bench.TEST'],
    'the pointers render the client spelling; the other owner shares only the suffix',
  );
  // A pointer forward or to itself is no name to rewrite (and must not loop).
  const looped = Buffer.from([...header.subarray(0, 7), 1, 0, 0, 0, 0, ...question, ...rr([0xc0, 12 + question.length])]);
  const loopInfo = walkMessage(looped, looped.length, false);
  t.same(qnameCopies(looped, loopInfo), []);
  const noQuestion = Buffer.from([0, 7, 0x81, 0x82, 0, 0, 0, 0, 0, 0, 0, 0]);
  t.same(qnameCopies(noQuestion, walkMessage(noQuestion, 12, false)), []);
});
