// The typed API on real files in a temp dir, checked against the files themselves (and libuci's formats).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Uci, UciError, UciParseError } from '../src/index.js';

function setup(
  t: { teardown(fn: () => void): void },
  files: Record<string, string>,
): { dir: string; conf: string; save: string; uci: Uci } {
  const dir = mkdtempSync(join(tmpdir(), 'uci-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'config');
  const save = join(dir, 'save');
  mkdirSync(conf);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(conf, name), text);
  return { dir, conf, save, uci: new Uci({ confdir: conf, savedir: save, conf2dir: null }) };
}

const NETWORK = `config interface 'loopback'
	option device 'lo'
	option proto 'static'

config interface 'lan'
	option proto 'static'
	list dns '2001:db8::1'

config rule
	option mark '0x1'

config rule
	option mark '0x2'
`;

t.test('get, sections and @type[N] addressing', async (t) => {
  const { uci } = setup(t, { network: NETWORK });
  t.equal(uci.get('network', 'lan', 'proto'), 'static');
  t.same(uci.get('network', 'lan', 'dns'), ['2001:db8::1']);
  t.equal(uci.get('network', 'lan'), 'interface');
  t.equal(uci.get('network', 'lan', 'nope'), undefined);
  t.equal(uci.get('network', 'nope'), undefined);
  t.equal(uci.get('network', '@rule[0]', 'mark'), '0x1');
  t.equal(uci.get('network', '@rule[-1]', 'mark'), '0x2');
  t.equal(uci.get('network', '@interface[1]', 'proto'), 'static');
  t.equal(uci.get('network', '@rule[5]', 'mark'), undefined);
  const rules = uci.sections('network', 'rule');
  t.equal(rules.length, 2);
  t.match(rules[1], { type: 'rule', anonymous: true, index: 1, options: { mark: '0x2' } });
  t.match(rules[0]?.name, /^cfg03[0-9a-f]{4}$/);
  t.equal(uci.sections('network').length, 4);
  t.throws(() => uci.get('missing', 'x'), { code: 'NOTFOUND' });
  t.throws(() => uci.get('network', '@rule[x]'), { code: 'INVAL' });
  t.throws(() => uci.get('network', 'a.b'), UciError);
});

t.test('edits are staged as libuci deltas, shown as changes, and committed', async (t) => {
  const { uci, conf, save } = setup(t, { network: NETWORK });
  uci.set('network', 'lan', 'proto', 'dhcp');
  uci.set('network', 'wan6_lookup', 'rule6');
  uci.set('network', 'wan6_lookup', 'mark', "it's");
  const name = uci.add('network', 'route6');
  t.match(name, /^cfg06[0-9a-f]{4}$/, 'the named section counts too');
  uci.addList('network', 'lan', 'dns', '2001:db8::2');
  uci.delList('network', 'lan', 'dns', '2001:db8::1');
  uci.rename('network', 'loopback', 'device', 'ifname');
  const rule0 = uci.sections('network', 'rule')[0]?.name;
  uci.delete('network', '@rule[0]');
  uci.reorder('network', 'wan6_lookup', 0);
  t.equal(
    readFileSync(join(save, 'network'), 'utf8'),
    `${[
      "network.lan.proto='dhcp'",
      "network.wan6_lookup='rule6'",
      "network.wan6_lookup.mark='it'\\''s'",
      `+network.${name}='route6'`,
      "|network.lan.dns='2001:db8::2'",
      "~network.lan.dns='2001:db8::1'",
      "@network.loopback.device='ifname'",
      `-network.${rule0}`,
      "^network.wan6_lookup='0'",
    ].join('\n')}\n`,
  );
  t.equal(uci.changes('network').length, 9);
  t.equal(readFileSync(join(conf, 'network'), 'utf8'), NETWORK, 'nothing committed yet');
  uci.commit('network');
  t.equal(readFileSync(join(save, 'network'), 'utf8'), '', 'delta file emptied');
  const text = readFileSync(join(conf, 'network'), 'utf8');
  t.equal(
    text,
    `
config rule6 'wan6_lookup'
	option mark 'it'\\''s'

config interface 'loopback'
	option ifname 'lo'
	option proto 'static'

config interface 'lan'
	option proto 'dhcp'
	list dns '2001:db8::2'

config rule
	option mark '0x2'

config route6

`,
  );
  const fresh = new Uci({ confdir: conf, savedir: save, conf2dir: null });
  t.equal(fresh.get('network', 'wan6_lookup', 'mark'), "it's");
  t.same(fresh.changes('network'), []);
  t.equal(fresh.export('network').split('\n')[0], 'package network');
  t.match(fresh.show('network'), /^network\.wan6_lookup=rule6\n/);
  t.equal(statSync(join(conf, 'network')).mode & 0o777, statSync(join(conf, 'network')).mode & 0o777);
});

t.test('revert drops staged changes of a section, option or package', async (t) => {
  const { uci, save } = setup(t, { network: NETWORK });
  uci.set('network', 'lan', 'proto', 'dhcp');
  uci.set('network', 'lan', 'mtu', '1280');
  uci.set('network', 'loopback', 'proto', 'none');
  uci.revert('network', 'lan', 'proto');
  t.equal(readFileSync(join(save, 'network'), 'utf8'), "network.lan.mtu='1280'\nnetwork.loopback.proto='none'\n");
  t.equal(uci.get('network', 'lan', 'proto'), 'static');
  uci.revert('network', 'lan');
  t.equal(uci.get('network', 'lan', 'mtu'), undefined);
  uci.revert('network');
  t.equal(readFileSync(join(save, 'network'), 'utf8'), '');
  t.equal(uci.get('network', 'loopback', 'proto'), 'static');
});

t.test('UTF-8 values round-trip; empty value deletes; errors are typed', async (t) => {
  const { uci, conf } = setup(t, { system: "config system\n\toption hostname 'knoten'\n" });
  uci.set('system', '@system[0]', 'description', 'Café Grün');
  t.equal(uci.get('system', '@system[0]', 'description'), 'Café Grün');
  uci.commit('system');
  t.match(readFileSync(join(conf, 'system'), 'utf8'), /option description 'Café Grün'/);
  uci.set('system', '@system[0]', 'description', '');
  t.equal(uci.get('system', '@system[0]', 'description'), undefined);
  t.throws(() => uci.delete('system', 'nope'), { code: 'NOTFOUND' });
  t.throws(() => uci.set('system', 'nope', 'x', 'y'), { code: 'INVAL' });
  t.throws(() => uci.rename('system', '@system[0]', 'bad name'), { code: 'INVAL' });
  writeFileSync(join(conf, 'broken'), 'config a x\n\tbogus\n');
  t.throws(() => uci.load('broken'), UciParseError);
});

t.test('extra delta dirs are read before the save dir; changes() lists every package', async (t) => {
  const { uci, dir, conf, save } = setup(t, { network: NETWORK, system: 'config system\n' });
  mkdirSync(join(dir, 'extra'));
  writeFileSync(join(dir, 'extra', 'network'), "network.lan.proto='from_extra'\nnetwork.lan.mtu='1280'\n");
  const u = new Uci({ confdir: conf, savedir: save, conf2dir: null, deltaPaths: [join(dir, 'extra')] });
  t.equal(u.get('network', 'lan', 'proto'), 'from_extra');
  u.set('network', 'lan', 'proto', 'dhcp');
  t.equal(
    new Uci({ confdir: conf, savedir: save, conf2dir: null, deltaPaths: [join(dir, 'extra')] }).get('network', 'lan', 'proto'),
    'dhcp',
  );
  t.same(
    u.changes().map((c) => `${c.package}.${c.section}.${c.option}=${c.value}`),
    ['network.lan.proto=from_extra', 'network.lan.mtu=1280', 'network.lan.proto=dhcp'],
  );
  t.equal(uci.get('network', 'lan', 'mtu'), undefined, 'a context without that dir does not see them');
  u.commit('network');
  t.match(readFileSync(join(conf, 'network'), 'utf8'), /option proto 'dhcp'\n\tlist dns '2001:db8::1'\n\toption mtu '1280'/);
  t.equal(readFileSync(join(dir, 'extra', 'network'), 'utf8').length > 0, true, 'only the save dir is emptied');
});
