import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { decodeInstalled, encodeInstalled, installedFile, readInstalled, writeInstalled } from '../src/installed.js';
import { type Prefix, parsePrefix } from '../src/ip.js';
import type { Route } from '../src/model.js';

const p = (text: string) => parsePrefix(text) as Prefix;
const routes: Route[] = [
  { family: 6, table: 1, dst: p('::/0'), type: 'unreachable', metric: 65535, protocol: 4 },
  {
    family: 6,
    table: 1,
    dst: p('2001:db8:9::/48'),
    src: p('2001:db8:1::/64'),
    type: 'unicast',
    dev: 'br-wan',
    gateway: 'fe80::1',
    metric: 1024,
    protocol: 4,
    prefsrc: '2001:db8:1::5',
    mtu: 1280,
  },
];

t.test('the record round-trips, writes only on change, and a damaged one is empty', async (t) => {
  t.same(decodeInstalled(encodeInstalled(routes)), routes);
  t.same(decodeInstalled('{'), []);
  t.same(decodeInstalled('{}'), []);
  t.same(decodeInstalled('[{"family":6,"dst":"nonsense","table":1,"metric":1}]'), []);
  const dir = mkdtempSync(join(tmpdir(), 'policy-installed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const state = join(dir, 'run');
  t.same(readInstalled(state), []);
  t.equal(writeInstalled(state, routes, []), true);
  t.same(readInstalled(state), routes);
  t.equal(writeInstalled(state, routes, readInstalled(state)), false, 'unchanged: not written');
  writeFileSync(installedFile(state), 'garbage');
  t.same(readInstalled(state), []);
});
