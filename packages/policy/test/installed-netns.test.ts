// tier: root: network namespaces, SO_MARK or firewall rules
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isRoot } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { createNode, gluonNetworkText, meshwan } from './lib/node.js';

t.setTimeout(120_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');

const extra = `
config route6 'blocked'
	option type 'blackhole'
	option interface 'loopback'
	option target '2001:db8:66::/48'
	option table '1'

config route6 'via_wan'
	option interface 'wan6'
	option target '2001:db8:67::/48'
	option gateway '2001:db8:1::1'
	option table '1'
`;

t.test('a deleted or changed route6 section: its route leaves table 1; routes policy did not install stay', async (t) => {
  const n = createNode(t, gluonNetworkText + extra);
  const table1 = () => n.node.ip('-6', 'route', 'show', 'table', '1');
  t.equal(meshwan(n, ['apply']).status, 0);
  t.match(table1(), /blackhole 2001:db8:66::\/48/);
  t.match(table1(), /2001:db8:67::\/48 via 2001:db8:1::1 dev br-wan/);
  // Someone else's route (netifd's, same protocol): not in the record, so never deleted.
  n.node.ip('-6', 'route', 'add', 'blackhole', '2001:db8:68::/48', 'table', '1', 'proto', 'static');
  const record = JSON.parse(readFileSync(join(n.root, 'var/run/meshwan/config-routes.json'), 'utf8')) as { dst: string }[];
  // With the sections' routes, the WAN's subnet route (netifd's shape, made by meshwan alone: interface-routes.ts).
  t.same(record.map((r) => r.dst).sort(), ['2001:db8:1::/64', '2001:db8:66::/48', '2001:db8:67::/48', '::/0']);

  // Drop one section and change the other's metric.
  writeFileSync(
    join(n.root, 'etc/config/network'),
    `${gluonNetworkText}${extra.split("config route6 'via_wan'")[0]?.replace("option table '1'", "option table '1'\n\toption metric '5'")}`,
  );
  const second = meshwan(n, ['apply']);
  t.equal(second.status, 0, second.stderr);
  t.match(second.stdout, /add route blackhole 2001:db8:66::\/48 table 1 proto static metric 5/);
  t.match(second.stdout, /delete route blackhole 2001:db8:66::\/48 table 1 proto static metric 1024/);
  t.match(second.stdout, /delete route 2001:db8:67::\/48 via 2001:db8:1::1 dev br-wan table 1 proto static metric 1024/);
  t.notMatch(table1(), /2001:db8:67::\/48/);
  t.match(table1(), /blackhole 2001:db8:66::\/48 dev lo proto static metric 5/);
  t.match(table1(), /blackhole 2001:db8:68::\/48/, 'a route policy did not install is left alone');
  t.equal(meshwan(n, ['apply']).stdout, 'no change\n', 'steady again');
});
