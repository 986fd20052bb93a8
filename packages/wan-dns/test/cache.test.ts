import dnsPacket from 'dns-packet';
import t from 'tap';
import { Cache, cacheEntriesFor } from '../src/cache.js';
import { cacheKey, walkMessage } from '../src/wire.js';

const q = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'www.example.test' }] });
const qinfo = walkMessage(q, q.length, true);
const key = cacheKey(q, qinfo);

const soa = (ttl: number, minimum: number): dnsPacket.Answer => ({
  type: 'SOA',
  name: 'example.test',
  ttl,
  data: { mname: 'ns.example.test', rname: 'hostmaster.example.test', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum },
});

type Rcoded = Partial<dnsPacket.Packet> & { rcode?: string };

function answer(p: Rcoded): { msg: Buffer; info: ReturnType<typeof walkMessage> } {
  const msg = dnsPacket.encode({
    type: 'response',
    id: 99,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name: 'www.example.test' }],
    ...p,
  } as dnsPacket.Packet);
  return { msg, info: walkMessage(msg, msg.length, false) };
}

t.test('positive answers: min TTL, TTLs count down, expire', async (t) => {
  const c = new Cache(10);
  const { msg, info } = answer({
    answers: [
      { type: 'A', name: 'www.example.test', ttl: 300, data: '192.0.2.80' },
      { type: 'A', name: 'www.example.test', ttl: 100, data: '192.0.2.81' },
    ],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer],
  });
  t.equal(c.put(key, msg, info, 0), 100);
  const hit = c.get(key, 30_500);
  t.ok(hit);
  const decoded = dnsPacket.decode(hit as Buffer);
  t.equal(decoded.id, 0);
  t.same(
    decoded.answers?.map((a) => (a as { ttl: number }).ttl),
    [270, 70],
  );
  t.equal(decoded.additionals?.[0]?.type, 'OPT');
  t.equal(c.get(key, 100_000), undefined, 'expired');
  t.equal(c.size, 0);
  t.equal(c.hits, 1);
  t.equal(c.misses, 1);
});

t.test('negative answers per RFC 2308: min(SOA TTL, MINIMUM), only with a SOA; SOA TTL counts down the rest', async (t) => {
  const c = new Cache(10);
  const nx = answer({ rcode: 'NXDOMAIN', flags: 3, authorities: [soa(300, 60)] });
  t.equal(c.put(key, nx.msg, nx.info, 0), 60);
  const hit = dnsPacket.decode(c.get(key, 20_000) as Buffer) as dnsPacket.DecodedPacket & { rcode?: string };
  t.equal(hit.rcode, 'NXDOMAIN');
  t.equal((hit.authorities?.[0] as { ttl: number }).ttl, 40);
  t.equal(c.get(key, 60_000), undefined);
  const nodata = answer({ authorities: [soa(30, 600)] });
  t.equal(c.put(key, nodata.msg, nodata.info, 0), 30);
  const noSoa = answer({ rcode: 'NXDOMAIN', flags: 3 });
  t.equal(c.put('other', noSoa.msg, noSoa.info, 0), 0);
});

t.test('never cached: SERVFAIL, REFUSED, truncated, TTL 0; cache size 0', async (t) => {
  const c = new Cache(10);
  for (const rcode of ['SERVFAIL', 'REFUSED'] as const) {
    const a = answer({ rcode, flags: rcode === 'SERVFAIL' ? 2 : 5 });
    t.equal(c.put(key, a.msg, a.info, 0), 0, rcode);
  }
  const tc = answer({
    flags: dnsPacket.TRUNCATED_RESPONSE,
    answers: [{ type: 'A', name: 'www.example.test', ttl: 300, data: '192.0.2.80' }],
  });
  t.equal(c.put(key, tc.msg, tc.info, 0), 0);
  const zero = answer({ answers: [{ type: 'A', name: 'www.example.test', ttl: 0, data: '192.0.2.80' }] });
  t.equal(c.put(key, zero.msg, zero.info, 0), 0);
  const off = new Cache(0);
  const ok = answer({ answers: [{ type: 'A', name: 'www.example.test', ttl: 9, data: '192.0.2.80' }] });
  t.equal(off.put(key, ok.msg, ok.info, 0), 0);
  t.equal(c.size, 0);
});

t.test('bounded: the oldest entry goes first', async (t) => {
  const c = new Cache(2);
  const ok = answer({ answers: [{ type: 'A', name: 'www.example.test', ttl: 9, data: '192.0.2.80' }] });
  c.put('a', ok.msg, ok.info, 0);
  c.put('b', ok.msg, ok.info, 0);
  c.put('c', ok.msg, ok.info, 0);
  t.equal(c.size, 2);
  t.equal(c.get('a', 1), undefined);
  t.ok(c.get('c', 1));
  c.clear();
  t.equal(c.size, 0);
});

t.test('the cache is bounded by the heap limit: never so many entries that V8 runs out of heap', async (t) => {
  const MiB = 1024 * 1024;
  t.equal(cacheEntriesFor(150, 35 * MiB), 150, 'small caches are untouched');
  t.equal(cacheEntriesFor(1_000_000, 35 * MiB), 19 * 1024, 'node --max-old-space-size=32: about 19k entries');
  t.equal(cacheEntriesFor(1_000_000, 4144 * MiB), 1_000_000, "node's default heap takes the flag's maximum");
  t.equal(cacheEntriesFor(100, 8 * MiB), 0, 'a heap smaller than the reserve: no cache');
  t.equal(cacheEntriesFor(0, 35 * MiB), 0);
});
