import t from 'tap';
import { decodeAddress, encodeAddress } from '../src/codec/address.js';
import { RTA_CACHEINFO, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWRULE } from '../src/codec/constants.js';
import { formatIp, parseIp, parsePrefix } from '../src/codec/ip.js';
import { decodeLink } from '../src/codec/link.js';
import { decodeError, decodeHeader, forEachAttribute } from '../src/codec/message.js';
import { decodeRoute, encodeRoute } from '../src/codec/route.js';
import { decodeRule, encodeRule } from '../src/codec/rule.js';
import { DecodeError, RequestError } from '../src/errors.js';

t.test('addresses format like inet_ntop and parse back', async (t) => {
  const cases = [
    '::',
    '::1',
    '2001:db8::1',
    '2001:db8:0:1:1:1:1:1',
    '2001:0:0:1::1',
    'fe80::e0ca:43ff:fe62:54a2',
    '::ffff:192.0.2.1',
    '::192.0.2.1',
    '1::',
    '192.0.2.255',
    '0.0.0.0',
  ];
  for (const text of cases) {
    const bytes = parseIp(text);
    t.ok(bytes, text);
    if (bytes) t.equal(formatIp(bytes), text);
  }
  t.equal(formatIp(parseIp('2001:DB8:0:0:0:0:0:1') ?? new Uint8Array()), '2001:db8::1');
  for (const bad of ['1.2.3', '256.1.1.1', '1::2::3', '12345::', 'g::', '1:2:3:4:5:6:7:8:9', '']) t.equal(parseIp(bad), undefined, bad);
  t.match(parsePrefix('192.0.2.0/24', 'dst'), { length: 24, family: 4 });
  t.match(parsePrefix('default', 'dst', 6), { length: 0, family: 6 });
  t.throws(() => parsePrefix('default', 'dst'), RequestError);
  t.throws(() => parsePrefix('192.0.2.0/33', 'dst'), RequestError);
  t.throws(() => parsePrefix('2001:db8::/x', 'dst'), RequestError);
  t.throws(() => parsePrefix('192.0.2.0/24', 'dst', 6), new RequestError('dst', '192.0.2.0', 'an IPv6 address'));
});

t.test('requests decode back to what was asked (route, rule, address)', async (t) => {
  const route = encodeRoute(
    RTM_NEWROUTE,
    0,
    {
      dst: '2001:db8:1::/48',
      table: 1000,
      metric: 5,
      gateway: '2001:db8::2',
      dev: 3,
      from: '2001:db8::/64',
      pref: 'high',
      protocol: 'static',
    },
    false,
  ).finish(1);
  t.match(decodeRoute(route, 0, route.length), {
    family: 6,
    table: 1000,
    metric: 5,
    gateway: '2001:db8::2',
    oif: 3,
    dst: '2001:db8:1::',
    dstLength: 48,
    src: '2001:db8::',
    srcLength: 64,
    pref: 'high',
    protocol: 4,
    type: 'unicast',
  });
  const mp = encodeRoute(
    RTM_NEWROUTE,
    0,
    { dst: '192.0.2.0/24', nexthops: [{ gateway: '192.0.2.1', dev: 2, weight: 2 }, { dev: 3 }] },
    false,
  ).finish(2);
  t.same(decodeRoute(mp, 0, mp.length).nexthops, [
    { oif: 2, weight: 2, flags: 0, gateway: '192.0.2.1' },
    { oif: 3, weight: 1, flags: 0 },
  ]);
  t.throws(() => encodeRoute(RTM_NEWROUTE, 0, { dst: '192.0.2.0/24', nexthops: [{ weight: 0 }] }, false), RequestError);
  t.throws(() => encodeRoute(RTM_NEWROUTE, 0, { dst: '192.0.2.0/24', protocol: 'nonsense' }, false), RequestError);
  // RTA_EXPIRES is sent in seconds (as iproute2 `expires N`), IPv6 only; dumps report the expiry in RTA_CACHEINFO
  const expiring = encodeRoute(RTM_NEWROUTE, 0, { dst: '2001:db8:7::/48', dev: 2, expiresSeconds: 1800 }, false).finish(4);
  t.equal(decodeRoute(expiring, 0, expiring.length).expiresSeconds, 1800);
  t.throws(
    () => encodeRoute(RTM_NEWROUTE, 0, { dst: '192.0.2.0/24', dev: 2, expiresSeconds: 5 }, false),
    new RequestError('expiresSeconds', '5', 'no expiry on an IPv4 route (the kernel ignores RTA_EXPIRES there)'),
  );
  for (const bad of [-1, 1.5, 2 ** 32])
    t.throws(() => encodeRoute(RTM_NEWROUTE, 0, { dst: '2001:db8:7::/48', expiresSeconds: bad }, false), RequestError, String(bad));
  const del = encodeRoute(RTM_NEWROUTE, 0, { dst: '192.0.2.0/24', expiresSeconds: 5 }, true).finish(5);
  t.equal(decodeRoute(del, 0, del.length).expiresSeconds, undefined, 'a delete does not send the expiry');
  const cacheinfo = (expires: number, length = 32) => {
    const ci = Buffer.alloc(length);
    if (length >= 12) ci.writeInt32LE(expires, 8);
    return encodeRoute(RTM_NEWROUTE, 0, { dst: '2001:db8:7::/48', dev: 2 }, false).attr(RTA_CACHEINFO, ci).finish(6);
  };
  const read = (buf: Uint8Array) => decodeRoute(buf, 0, buf.length).expiresSeconds;
  t.equal(read(cacheinfo(29_950)), 300, 'rta_expires is clock_t (1/100 s), rounded up');
  t.equal(read(cacheinfo(1)), 1, 'a live route reads at least 1 s');
  t.equal(read(cacheinfo(-250)), 0, 'expired, not yet collected');
  t.equal(read(cacheinfo(0)), undefined, 'no expiry');
  t.throws(() => read(cacheinfo(0, 8)), DecodeError);
  // What a rule is asked for and what decoding it gives back share these fields (from/to come back as src/dst).
  const ruleFields = {
    family: 4,
    priority: 7,
    fwmark: 1,
    fwmask: 3,
    iif: 'lo',
    oif: 'va',
    suppressPrefixLength: 0,
    invert: true,
    table: 300,
    protocol: 4,
  } as const;
  const rule = encodeRule(RTM_NEWRULE, 0, { ...ruleFields, from: '192.0.2.0/24', to: '198.51.100.0/24' }, false).finish(3);
  t.match(decodeRule(rule, 0, rule.length), { ...ruleFields, src: '192.0.2.0', srcLength: 24, dst: '198.51.100.0', action: 'lookup' });
  const addr = encodeAddress(RTM_NEWADDR, 0, {
    address: '192.0.2.1/24',
    index: 4,
    peer: '192.0.2.9',
    broadcast: '192.0.2.255',
    label: 'x',
    metric: 9,
    validLifetimeSeconds: 60,
  }).finish(4);
  t.match(decodeAddress(addr, 0, addr.length), {
    family: 4,
    address: '192.0.2.1',
    peer: '192.0.2.9',
    prefixLength: 24,
    broadcast: '192.0.2.255',
    label: 'x',
    metric: 9,
    validLifetimeSeconds: 60,
    preferredLifetimeSeconds: 60,
  });
});

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test("netifd's failed_policy rule: action 12 (RTN_FAILED_POLICY) encodes as that byte and decodes back", async (t) => {
  const rule = encodeRule(
    RTM_NEWRULE,
    0,
    { family: 6, priority: 4200000002, action: 'failed_policy', iif: 'wan0', protocol: 0 },
    false,
  ).finish(5);
  // struct fib_rule_hdr follows the 16-byte nlmsghdr; its action is byte 7.
  t.equal(rule[16 + 7], 12);
  t.match(decodeRule(rule, 0, rule.length), { family: 6, priority: 4200000002, action: 'failed_policy', iif: 'wan0', table: 0 });
});

t.test('malformed input is a DecodeError naming the offset', async (t) => {
  const cases: [string, () => unknown, number, RegExp][] = [
    ['short header', () => decodeHeader(hex('10000000'), 0, 4), 0, /truncated nlmsghdr/],
    ['length past buffer', () => decodeHeader(hex('20000000 1800 0000 00000000 00000000'), 0, 16), 0, /nlmsg_len 32/],
    ['attribute past end', () => forEachAttribute(hex('08000100 0000'), 0, 6, () => {}), 0, /length 8 outside/],
    ['attribute shorter than its header', () => forEachAttribute(hex('02000100'), 0, 4, () => {}), 0, /length 2/],
    ['trailing bytes', () => forEachAttribute(hex('0500 0300 41000000 01'), 0, 9, () => {}), 8, /trailing/],
    ['rtmsg too short', () => decodeRoute(hex('1a000000 1800 0000 00000000 00000000 0a00'), 0, 18), 16, /rtmsg needs 12/],
    [
      'route family',
      () => decodeRoute(hex('1c000000 1800 0000 00000000 00000000 07000000 00000000 00000000'), 0, 28),
      16,
      /unknown family 7/,
    ],
    [
      'RTA_DST of wrong length',
      () => decodeRoute(hex('24000000 1800 0000 00000000 00000000 0a180000 fe000301 00000000 08000100 c0000200'), 0, 36),
      32,
      /RTA_DST: 4 bytes|RTA_DST/,
    ],
    [
      'RTA_TABLE not 4 bytes',
      () => decodeRoute(hex('22000000 1800 0000 00000000 00000000 02000000 fe000301 00000000 06000f00 0100'), 0, 34),
      32,
      /RTA_TABLE/,
    ],
    [
      'multipath nexthop length',
      () => decodeRoute(hex('28000000 1800 0000 00000000 00000000 02000000 fe000301 00000000 0c000900 40000000 02000000'), 0, 40),
      32,
      /rtnexthop length 64/,
    ],
    ['ifinfomsg short', () => decodeLink(hex('14000000 1000 0000 00000000 00000000 00000000'), 0, 20), 16, /ifinfomsg needs 16/],
    ['ifaddrmsg family', () => decodeAddress(hex('18000000 1400 0000 00000000 00000000 05000000 00000000'), 0, 24), 16, /unknown family 5/],
    ['fib_rule_hdr short', () => decodeRule(hex('14000000 2000 0000 00000000 00000000 02000000'), 0, 20), 16, /fib_rule_hdr needs 12/],
  ];
  for (const [name, fn, offset, reason] of cases) {
    const err = t.throws(fn, DecodeError, name) as DecodeError;
    t.equal(err.offset, offset, `${name}: offset`);
    t.match(err.reason, reason, `${name}: reason`);
  }
  // an error reply with an extended ack message
  const reply = hex('30000000 0200 0003 01000000 00000000 efffffff 14000000 1800 0500 01000000 00000000 0c000100 6e6f7065 00000000');
  const h = decodeHeader(reply, 0, reply.length);
  t.same(decodeError(reply, h, 0), { error: -17, message: 'nope' });
});

t.test('unknown attributes are kept', async (t) => {
  // rtmsg with an attribute type 99 the codec does not know
  const buf = hex('24000000 1800 0000 00000000 00000000 02000000 fe000301 00000000 08006300 01020304');
  const r = decodeRoute(buf, 0, buf.length);
  t.same(r.unknown, [{ type: 99, bytes: Uint8Array.of(1, 2, 3, 4) }]);
});
