// tier: root: network namespaces, SO_MARK or firewall rules
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isRoot } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { createNode, gluonNetworkText, meshwan, routeGet } from './lib/node.js';

t.setTimeout(120_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');
t.test('ip4table: IPv4 is split the same way, from config rule and route sections', async (t) => {
  const n = createNode(t);
  writeFileSync(
    join(n.root, 'etc/config/network'),
    `${gluonNetworkText.replace("option peerdns '0'\n\n", "option peerdns '0'\n\toption ip4table '1'\n\n")}
config rule 'wan_lookup'
	option mark '0x01/0x01'
	option lookup '1'

config route 'wan_unreachable'
	option type 'unreachable'
	option interface 'loopback'
	option target '0.0.0.0/0'
	option table '1'
	option metric '65535'
`,
  );
  const r = meshwan(n, ['apply']);
  t.equal(r.status, 0, r.stderr);
  t.match(routeGet(n, '-4', '203.0.113.1', 'mark', '1'), /via 192.0.2.1 dev br-wan table 1/);
  t.match(routeGet(n, '-4', '203.0.113.1'), /unreachable/i);
  t.match(routeGet(n, '-4', '203.0.113.1', 'from', '192.0.2.5'), /unreachable|invalid|cross-device/i);
  t.equal(meshwan(n, ['apply']).stdout, 'no change\n');
});
