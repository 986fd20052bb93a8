// tier: root: network namespaces, SO_MARK or firewall rules
// The shared netns helper itself: a topology of two namespaces over veth, reachability, and no leftovers.
import t from 'tap';
import { createNamespace, isRoot, link, namespacesOfThisRun } from './lib/netns.js';
import { requireParts } from './lib/require.js';

requireParts(isRoot() ? false : 'needs root');

t.test('two namespaces over a veth pair reach each other on IPv4 and IPv6, and are removed afterwards', async (t) => {
  await t.test('topology', async (t) => {
    const a = createNamespace(t, 'a');
    const b = createNamespace(t, 'b');
    link(
      { ns: a, dev: 'veth-a', addresses: ['192.0.2.1/24', '2001:db8::1/64'] },
      { ns: b, dev: 'veth-b', addresses: ['192.0.2.2/24', '2001:db8::2/64'] },
    );
    t.equal(a.try('ping', '-c1', '-W2', '192.0.2.2').status, 0, 'IPv4 ping over veth');
    t.equal(a.try('ping', '-c1', '-W2', '2001:db8::2').status, 0, 'IPv6 ping over veth');
    const links = b.ipJson<{ ifname: string }[]>('link', 'show', 'veth-b');
    t.equal(links[0]?.ifname, 'veth-b');
  });
  t.same(namespacesOfThisRun(), [], 'teardown deleted every namespace of this run');
});
