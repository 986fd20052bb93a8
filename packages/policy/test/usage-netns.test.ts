// tier: root: network namespaces, SO_MARK or firewall rules
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isRoot } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { createNode, gluonNetworkText, meshwan, routeGet } from './lib/node.js';

t.setTimeout(120_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');
t.test('bad usage exits 2; a broken config names the section and exits 1', async (t) => {
  const n = createNode(t);
  t.equal(meshwan(n, ['frobnicate']).status, 2);
  t.equal(meshwan(n, ['apply', '--json']).status, 2);
  writeFileSync(
    join(n.root, 'etc/config/network'),
    `${gluonNetworkText}\nconfig rule6 'broken'\n\toption mark 'banana'\n\toption lookup '1'\n`,
  );
  const r = meshwan(n, ['apply'], { MESHWAN_FIREWALL: 'none' });
  t.equal(r.status, 1);
  t.match(r.stderr, /network: broken\.mark: expected MARK\[\/MASK\] like 0x1\/0x1, got "banana"/);
  t.match(routeGet(n, '-6', '2001:db8:ffff::1', 'mark', '1'), /table 1/, 'the rest was applied');
});
