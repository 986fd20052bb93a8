import type { IpFamily } from '@meshwan/os';
import t from 'tap';
import { checkRuleset, type Rule, RulesetError, validate } from '../src/index.js';

const base: Rule = { family: 4, table: 'nat', chain: 'OUTPUT', target: { type: 'ACCEPT' } };
const messages = (rules: unknown[], backend: 'iptables' | 'nft' | 'any' = 'any') =>
  checkRuleset({ rules: rules as Rule[] }, backend).map((e) => e.message);

t.test('a valid ruleset passes and is returned unchanged', async (t) => {
  const rs = {
    rules: [
      {
        ...base,
        match: { protocol: 'udp', destinationPort: 53, owner: { gid: 800 } },
        target: { type: 'DNAT', address: '127.0.0.1', port: 54 },
      },
      {
        ...base,
        family: 6,
        match: { protocol: 'tcp', destination: '2001:db8::/32', sourcePort: [1024, 65535] },
        target: { type: 'jump', chain: 'meshwan_x' },
      },
      { ...base, family: 6, chain: 'meshwan_x', target: { type: 'REDIRECT', port: 54 }, match: { protocol: 'tcp' } },
      {
        ...base,
        table: 'mangle',
        match: { mark: { not: { value: 1, mask: 1 } }, ctState: ['NEW'], addrType: { destination: { not: 'LOCAL' } } },
        target: { type: 'MARK', set: 1, mask: 1 },
      },
      {
        ...base,
        table: 'mangle',
        chain: 'PREROUTING',
        match: { inInterface: { not: 'br-client' } },
        target: { type: 'CONNMARK', op: 'restore' },
      },
      { ...base, table: 'filter', chain: 'FORWARD', match: { outInterface: 'wan+', protocol: 'icmp' }, target: { type: 'REJECT' } },
    ],
  } as const;
  t.equal(validate(rs), rs);
});

t.test('every problem is reported with its rule index and field', async (t) => {
  t.same(
    messages([
      { ...base, family: 'ipv5' },
      { ...base, table: 'security' },
      { ...base, table: 'filter', chain: 'PREROUTING' },
      { ...base, chain: 'mychain' },
      { ...base, match: { destinationPort: 53 } },
      { ...base, match: { destination: '192.0.2.1/24' } },
      { ...base, match: { source: '2001:db8::1' } },
      { ...base, chain: 'PREROUTING', match: { owner: { gid: 800 } } },
      { ...base, match: { inInterface: 'eth0' } },
      { ...base, match: { outInterface: 'an-interface-name-too-long' } },
      { ...base, target: { type: 'REJECT' } },
      { ...base, table: 'filter', target: { type: 'DNAT', address: '127.0.0.1' } },
      { ...base, target: { type: 'DNAT', address: '::1', port: 54 } },
      { ...base, target: { type: 'MARK', set: 3, mask: 1 } },
      { ...base, target: { type: 'jump', chain: 'OUTPUT' } },
      { ...base, chain: 'meshwan_a', target: { type: 'jump', chain: 'meshwan_a' } },
      { ...base, match: { protocol: 'icmpv6' } },
      { ...base, match: { ctState: ['NEW', 'OLD'] } },
      { ...base, match: { owner: {} } },
      { ...base, match: { sourcePort: [20, 10], protocol: 'tcp' } },
      { ...base, comment: 'no "quotes"' },
      { ...base, target: { type: 'FORWARD' } },
    ]),
    [
      'rules[0].family: expected 4 or 6, got "ipv5"',
      'rules[1].table: expected raw, nat, mangle or filter, got "security"',
      'rules[2].chain: the filter table has no PREROUTING chain',
      'rules[3].chain: expected a built-in chain (PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING) or meshwan_ + up to 20 of [a-z0-9_], got "mychain"',
      'rules[4].match.destinationPort: a port match needs protocol tcp or udp',
      'rules[5].match.destination: 192.0.2.1/24 has host bits set',
      'rules[6].match.source: expected an IPv4 address or CIDR like 192.0.2.0/24, got "2001:db8::1"',
      'rules[7].match.owner: the socket owner is only known in OUTPUT and POSTROUTING, not PREROUTING',
      'rules[8].match.inInterface: not available in OUTPUT (only PREROUTING, INPUT, FORWARD)',
      'rules[9].match.outInterface: expected an interface name of 1..15 characters, got "an-interface-name-too-long"',
      'rules[10].target: REJECT is only valid in the filter table',
      'rules[11].target: DNAT is only valid in the nat table',
      'rules[12].target.address: expected an IPv4 address, got "::1"',
      'rules[12].target.port: a port needs protocol tcp or udp in the match',
      'rules[13].target: set has bits outside mask',
      'rules[14].target.chain: expected one of our chains (meshwan_ + [a-z0-9_]), got "OUTPUT"',
      'rules[15].target.chain: a chain cannot jump to itself',
      'rules[16].match.protocol: icmpv6 is IPv6; use icmp in an ipv4 rule',
      'rules[17].match.ctState: expected one of NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED, got "OLD"',
      'rules[18].match.owner: needs uid or gid',
      'rules[19].match.sourcePort: expected a port 1..65535 or a range [first, last] with first <= last, got [20,10]',
      'rules[20].comment: expected at most 100 of letters, digits, space and -_.:,/',
      'rules[21].target.type: expected ACCEPT, DROP, REJECT, RETURN, jump, DNAT, REDIRECT, MARK, CONNMARK or CT, got "FORWARD"',
    ],
  );
});

t.test('nft refuses what it cannot express instead of matching less', async (t) => {
  const suppl = { ...base, match: { owner: { gid: 800, supplGroups: true } } };
  t.same(messages([suppl], 'iptables'), []);
  t.same(messages([suppl], 'nft'), [
    'rules[0].match.owner.supplGroups: nft meta skgid matches only the primary gid; supplementary groups need the iptables backend',
  ]);
  const save = { ...base, table: 'mangle', target: { type: 'CONNMARK', op: 'save', mask: 0xff } };
  t.same(messages([save], 'nft'), [], 'masked save: bit by bit');
  const restore = {
    ...base,
    table: 'mangle',
    match: { mark: { value: 2, mask: 2 } },
    target: { type: 'CONNMARK', op: 'restore', mask: 0x3 },
  };
  t.same(messages([restore], 'iptables'), []);
  t.match(messages([restore], 'nft')[0], /^rules\[0\]\.target\.mask: nft restores a masked mark bit by bit/);
  t.same(messages([{ ...restore, target: { type: 'CONNMARK', op: 'restore', mask: 0x1 } }], 'nft'), [], 'one bit is fine');
  t.same(messages([{ ...base, match: { owner: { supplGroups: true, uid: 0 } } }]), [
    'rules[0].match.owner.supplGroups: needs gid (iptables --suppl-groups requires --gid-owner)',
  ]);
});

t.test('malformed input is an error, not a crash', async (t) => {
  t.same(messages([null, { family: 4 }]), [
    'rules[0]: expected a rule object with family, table, chain and target',
    'rules[1]: expected a rule object with family, table, chain and target',
  ]);
  t.throws(() => validate({} as never), RulesetError);
  t.same(
    messages([
      { ...base, match: { mark: { value: 0x1_0000_0000 } } },
      { ...base, match: { addrType: {} } },
      { ...base, match: { addrType: { source: 'NOWHERE' } } },
      { ...base, match: { destination: '192.0.2.0/33' } },
      { ...base, family: 6, match: { destination: '2001:db8::1/64' } },
      { ...base, family: 6, match: { destination: '::ffff:192.0.2.0/120' } },
      { ...base, target: { type: 'CONNMARK', op: 'swap' } },
      { ...base, target: { type: 'CONNMARK', op: 'set', value: 2, mask: 1 } },
      { ...base, match: { owner: { uid: -1, gid: [5, 1] } } },
      { ...base, match: { ctState: [] } },
    ]),
    [
      'rules[0].match.mark.value: expected a 32-bit number, got 4294967296',
      'rules[1].match.addrType: needs source or destination',
      'rules[2].match.addrType.source: expected one of UNSPEC, UNICAST, LOCAL, BROADCAST, ANYCAST, MULTICAST, BLACKHOLE, UNREACHABLE, PROHIBIT, got "NOWHERE"',
      'rules[3].match.destination: prefix length must be 0..32, got "33"',
      'rules[4].match.destination: 2001:db8::1/64 has host bits set',
      'rules[6].target.op: expected set, save or restore, got "swap"',
      'rules[7].target: value has bits outside mask',
      'rules[8].match.owner.uid: expected a uid, got -1',
      'rules[8].match.owner.gid: expected a gid or a range [first, last] with first <= last, got [5,1]',
      'rules[9].match.ctState: expected a non-empty list of NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED',
    ],
  );
});

t.test('jump loops are named before the kernel refuses them', async (t) => {
  const jump = (chain: string, to: string, family: IpFamily = 4): Rule => ({
    ...base,
    family,
    chain,
    target: { type: 'jump', chain: to },
  });
  t.same(
    messages([jump('OUTPUT', 'meshwan_a'), jump('meshwan_a', 'meshwan_b'), jump('meshwan_b', 'meshwan_c'), jump('meshwan_c', 'meshwan_a')]),
    ['rules[3].target.chain: jumping here makes a loop: meshwan_a -> meshwan_b -> meshwan_c -> meshwan_a'],
  );
  t.same(messages([jump('meshwan_a', 'meshwan_b'), jump('meshwan_b', 'meshwan_a', 6)]), [], 'different families are different chains');
  t.same(
    messages([jump('OUTPUT', 'meshwan_a'), jump('OUTPUT', 'meshwan_b'), jump('meshwan_a', 'meshwan_c'), jump('meshwan_b', 'meshwan_c')]),
    [],
    'a diamond is no loop',
  );
});
