import t from 'tap';
import { endpointKey, PROBE_INTERVAL_MS, Server, Upstreams } from '../src/upstreams.js';

/** The servers' keys in the order `u` would ask them at `nowMs`. */
const keysInOrder = (u: Upstreams, nowMs: number): string[] => u.ordered(nowMs).map((s) => s.key);

const e = (address: string, port = 53) => ({ address, port, family: (address.includes(':') ? 6 : 4) as 4 | 6 });

t.test('endpoint keys and sender matching', async (t) => {
  t.equal(endpointKey(e('192.0.2.1')), '192.0.2.1:53');
  t.equal(endpointKey(e('2001:db8::1', 5353)), '[2001:db8::1]:5353');
  const ll = new Server({ address: 'fe80::1', port: 53, family: 6, scope: 'wan' });
  t.equal(ll.key, '[fe80::1%wan]:53');
  t.ok(ll.matches('fe80::1%wan', 53));
  t.notOk(ll.matches('fe80::1%wan', 54));
  t.notOk(ll.matches('fe80::2%wan', 53));
  t.ok(new Server(e('2001:db8::a')).matches('2001:DB8::A', 53));
});

t.test('fastest first, unmeasured before measured, failed ones last until their back-off ends', async (t) => {
  const u = new Upstreams();
  u.set([e('192.0.2.1'), e('192.0.2.2'), e('192.0.2.3'), e('192.0.2.1')]);
  t.equal(u.list().length, 3, 'duplicates dropped');
  const [a, b, c] = u.list() as Server[];
  a?.answered(30);
  b?.answered(5);
  u.invalidate();
  t.same(keysInOrder(u, 1000), ['192.0.2.3:53', '192.0.2.2:53', '192.0.2.1:53']);
  c?.answered(50);
  b?.failed(1000);
  u.invalidate();
  t.same(keysInOrder(u, 1000), ['192.0.2.1:53', '192.0.2.3:53', '192.0.2.2:53']);
  t.ok(b?.isDown(1500));
  t.notOk(b?.isDown(2001));
  // Back from its back-off but not yet trusted: after the clean servers, and due for a parallel probe.
  t.same(keysInOrder(u, 2001), ['192.0.2.1:53', '192.0.2.3:53', '192.0.2.2:53']);
  t.same(u.probes(1, a as Server), [], 'the first interval starts at the first query');
  t.same(
    u.probes(2001 + PROBE_INTERVAL_MS, a as Server).map((s) => s.key),
    ['192.0.2.2:53', '192.0.2.3:53'],
    'full probe of all others',
  );
  t.same(u.probes(2002 + PROBE_INTERVAL_MS, a as Server), [], 'not again at once');
  b?.failed(14_000);
  b?.failed(14_000);
  t.equal(b?.downUntilMs, 18_000, 'back-off doubles');
  t.same(
    u.probes(18_000, a as Server).map((s) => s.key),
    ['192.0.2.2:53'],
  );
  b?.answered(2);
  t.equal(b?.consecutiveFailures, 0);
  t.equal(b?.snapshot(0).down, false);
  t.equal(b?.snapshot(0).answers, 2);
});

t.test('attempt timeouts follow SRTT within bounds; a reload keeps known servers', async (t) => {
  const s = new Server(e('192.0.2.1'));
  t.equal(s.attemptTimeoutMs(), 400);
  s.answered(1);
  t.equal(s.attemptTimeoutMs(), 100);
  for (let i = 0; i < 50; i++) s.answered(900);
  t.equal(s.attemptTimeoutMs(), 1000);
  const u = new Upstreams();
  u.set([e('192.0.2.1'), e('192.0.2.2')]);
  const kept = u.list()[1];
  kept?.answered(7);
  u.set([e('192.0.2.2'), e('192.0.2.4')]);
  t.equal(u.list()[0], kept);
  t.equal(u.list()[0]?.srttMs, 7);
  t.equal(u.ordered(0).length, 2);
});
