import { defaultSite, parseSite } from '@meshwan/site';
import t from 'tap';
import { applyEdits, sameValue } from '../src/config.js';
import { firewallIncludePath, planFirewall } from '../src/firewall.js';
import { formatMark, parseMark, parseNumber } from '../src/marks.js';
import { planWanDns } from '../src/wan-dns.js';
import { sec } from './helpers.js';

t.test('marks parse as netifd does (strtoul base 0) and print as Gluon does', async (t) => {
  t.same(parseMark('0x01/0x01'), { mark: 1, mask: 1 });
  t.same(parseMark('1/1'), { mark: 1, mask: 1 });
  t.same(parseMark('010'), { mark: 8, mask: 0xffffffff });
  t.equal(parseMark('0x1/0x1/1'), undefined);
  t.equal(parseMark('one'), undefined);
  t.equal(parseMark('1/x'), undefined);
  t.equal(parseNumber('0'), 0);
  t.equal(parseNumber('0x100000000'), undefined);
  t.equal(formatMark(1, 1), '0x01/0x01');
  t.equal(formatMark(0x100, 0xff00), '0x100/0xff00');
  t.ok(sameValue(['a', 'b'], ['a', 'b']));
  t.notOk(sameValue(['a'], 'a'));
  t.notOk(sameValue(undefined, 'a'));
});

t.test('gluon-wan-dnsmasq: one static section, seeded from the site only when the user has no servers', async (t) => {
  const none = defaultSite();
  const two = parseSite('[wan_dns]\nserver[] = 192.0.2.53\nserver[] = [2001:db8::53]:5353\nserver[] = fe80::1%wan\n', 'site.ini');
  t.same(planWanDns([], none), [{ op: 'add', type: 'static', options: {} }]);
  const fresh = applyEdits([], planWanDns([], two));
  t.same(fresh[0]?.options, { server: ['192.0.2.53', '[2001:db8::53]:5353', 'fe80::1%wan'] });
  t.same(planWanDns(fresh, two), []);
  const gluon = [sec('static', 'cfg01f8a1', {}, true)];
  t.same(planWanDns(gluon, none), []);
  t.same(planWanDns(gluon, two), [
    { op: 'set', section: 'cfg01f8a1', option: 'server', value: ['192.0.2.53', '[2001:db8::53]:5353', 'fe80::1%wan'] },
  ]);
  const user = [sec('static', 'cfg01f8a1', { server: ['198.51.100.53'] }, true)];
  t.same(planWanDns(user, two), [], "the user's list is theirs");
});

t.test("firewall: our include is owned; Gluon's goes only when its file is gone", async (t) => {
  const fresh = applyEdits(
    [],
    planFirewall([], () => true),
  );
  t.same(fresh, [sec('include', 'meshwan_dns', { type: 'script', path: firewallIncludePath, reload: '1', fw4_compatible: '1' })]);
  t.same(
    planFirewall(fresh, () => true),
    [],
  );
  const gluon = [
    sec('defaults', 'cfg01e63d', { input: 'ACCEPT' }, true),
    sec('include', 'mesh_vpn_dns', { type: 'restore', path: '/lib/gluon/mesh-vpn/iptables.rules', family: 'ipv4' }),
  ];
  const kept = applyEdits(
    gluon,
    planFirewall(gluon, () => true),
  );
  t.ok(kept.some((s) => s.name === 'mesh_vpn_dns'));
  const gone = applyEdits(
    gluon,
    planFirewall(gluon, () => false),
  );
  t.notOk(gone.some((s) => s.name === 'mesh_vpn_dns'));
  t.same(
    planFirewall(gone, () => false),
    [],
  );
});
