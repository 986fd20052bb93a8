import t from 'tap';
import { formatAddress, network, parseAddress, parsePrefix, prefixContains } from '../src/ip.js';

t.test('addresses round-trip to RFC 5952 text', async (t) => {
  for (const [input, out] of [
    ['2001:0db8:0:0:0:0:0:1', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::1:0:0:1', 'fe80::1:0:0:1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['192.0.2.1', '192.0.2.1'],
  ] as const) {
    const parsed = parseAddress(input);
    t.ok(parsed, input);
    if (parsed) t.equal(formatAddress(parsed.family, parsed.addr), out, input);
  }
  t.equal(parseAddress('nope'), undefined);
  t.equal(parseAddress('fe80::1%eth0'), undefined);
});

t.test('prefixes: length, dotted netmask, family, containment', async (t) => {
  t.same(parsePrefix('192.0.2.0/255.255.255.0'), { family: 4, addr: 0xc0000200n, len: 24 });
  t.equal(parsePrefix('192.0.2.0/255.0.255.0'), undefined);
  t.equal(parsePrefix('2001:db8::/129'), undefined);
  t.equal(parsePrefix('2001:db8::/64', 4), undefined);
  t.equal(parsePrefix('2001:db8::1')?.len, 128);
  const p = parsePrefix('2001:db8::5/64');
  t.ok(p);
  if (!p) return;
  t.equal(formatAddress(6, network(p).addr), '2001:db8::');
  t.ok(prefixContains(p, parseAddress('2001:db8::ffff')?.addr ?? 0n));
  t.notOk(prefixContains(p, parseAddress('2001:db8:1::1')?.addr ?? 0n));
  t.ok(prefixContains({ family: 6, addr: 0n, len: 0 }, 12345n));
});
