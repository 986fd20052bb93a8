import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { configPaths, openConfig, sectionsIfPresent } from '../src/index.js';

t.test('openConfig: every uci path under the root, the save dir included', async (t) => {
  t.same(configPaths('/'), { confdir: '/etc/config', savedir: '/tmp/.uci', conf2dir: '/var/run/uci' });
  t.same(configPaths('/r'), { confdir: '/r/etc/config', savedir: '/r/tmp/.uci', conf2dir: '/r/var/run/uci' });
  const uci = openConfig({ root: '/r' });
  t.equal(uci.confdir, '/r/etc/config');
  t.equal(uci.savedir, '/r/tmp/.uci');
});

t.test('openConfig: the committed file plus the staged deltas, as netifd and `uci show` see it', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'uci-open-'));
  mkdirSync(join(root, 'etc/config'), { recursive: true });
  mkdirSync(join(root, 'tmp/.uci'), { recursive: true, mode: 0o700 });
  writeFileSync(join(root, 'etc/config/network'), "config rule6 'wan6_lookup'\n\toption mark '0x01/0x01'\n\toption lookup '1'\n");
  openConfig({ root }).set('network', 'wan6_lookup', 'lookup', '7');
  t.equal(readFileSync(join(root, 'tmp/.uci/network'), 'utf8'), "network.wan6_lookup.lookup='7'\n", 'staged under the root');
  t.match(readFileSync(join(root, 'etc/config/network'), 'utf8'), /lookup '1'/, 'not committed');
  const fresh = openConfig({ root });
  t.equal(fresh.get('network', 'wan6_lookup', 'lookup'), '7', 'a new reader sees the staged change');
  t.equal(sectionsIfPresent(fresh, 'network')?.[0]?.options.lookup, '7');
  t.equal(sectionsIfPresent(fresh, 'none'), undefined, 'a missing package is undefined');
  t.notOk(existsSync(join(root, 'var/run/uci')), 'reading makes no conf2dir');
});
