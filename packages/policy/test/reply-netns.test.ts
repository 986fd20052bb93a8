// tier: root: network namespaces, SO_MARK or firewall rules
import { once } from 'node:events';
import t from 'tap';
import { isRoot, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { createNode, meshwan } from './lib/node.js';

t.setTimeout(120_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');

t.test('a connection that came in over the WAN is answered over the WAN (connmark), main empty', async (t) => {
  const n = createNode(t);
  const r = meshwan(n, ['apply']);
  t.equal(r.status, 0, r.stderr);
  // A TCP service on the node (think ssh), no route in main at all.
  const server = n.node.spawn(t, 'socat', ['TCP6-LISTEN:2222,reuseaddr,fork', 'EXEC:echo hello-from-node']);
  await waitFor('the service to listen', () => n.node.try('ss', '-Hltn', 'sport = :2222').stdout.includes('2222'));
  const client = n.uplink.spawn(t, 'socat', ['-T', '3', 'STDIO', 'TCP6:[2001:db8:1::5]:2222']);
  let got = '';
  client.stdout?.on('data', (d: Buffer) => {
    got += d.toString();
  });
  await once(client, 'exit');
  t.equal(got.trim(), 'hello-from-node', 'the reply found its way back through table 1');
  t.ok(server.pid);
  // The same service is unreachable from the node itself to the WAN side for unmarked traffic.
  t.match(n.node.try('ip', '-6', 'route', 'get', '2001:db8:1::1').stderr, /unreachable/i);
});
