// tier: root: network namespaces, SO_MARK or firewall rules
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isRoot } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { createNode, dualNetworkText, meshwan, routeGet } from './lib/node.js';

requireParts(isRoot() ? false : 'needs root for network namespaces');

t.setTimeout(120_000);
t.test('ip4table: IPv4 is split the same way, from config rule and route sections', async (t) => {
  const n = createNode(t);
  writeFileSync(join(n.root, 'etc/config/network'), dualNetworkText);
  const r = meshwan(n, ['apply']);
  t.equal(r.status, 0, r.stderr);
  t.match(routeGet(n, '-4', '203.0.113.1', 'mark', '1'), /via 192.0.2.1 dev br-wan table 1/);
  t.match(routeGet(n, '-4', '203.0.113.1'), /unreachable/i);
  t.match(routeGet(n, '-4', '203.0.113.1', 'from', '192.0.2.5'), /unreachable|invalid|cross-device/i);
  t.equal(meshwan(n, ['apply']).stdout, 'no change\n');
});
