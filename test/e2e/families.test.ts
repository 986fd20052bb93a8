// tier: root: network namespaces, SO_MARK or firewall rules
// An IPv4-only WAN and an IPv6-only WAN: the VPN group's lookups (sent to the mesh DNS over either family, and
// redirected whatever their destination) are answered by the WAN's DNS over the one family the WAN has.
import t from 'tap';
import { addr, answers } from '../lib/topology.js';
import { removeFirmware, testNode } from './lib/harness.js';

// A whole node costs several node.js starts; tap's 30 s default per file is too short on 2 cores.
t.setTimeout(240_000);

t.teardown(removeFirmware);

for (const [label, options] of [
  ['IPv4-only WAN', { wan4: true, wan6: false }],
  ['IPv6-only WAN', { wan4: false, wan6: true }],
] as const) {
  t.test(label, async (t) => {
    const node = await testNode(t, options);
    const { topo, gid } = node;
    const mesh0 = await topo.capture('mesh0');
    const names: string[] = [];
    for (const server of [addr.meshDns6, addr.meshDns4]) {
      const name = topo.probeName('vpn');
      names.push(name);
      t.same(topo.dig(server, name, { gid }).answers, [answers.wanA.txt], `VPN group @${server}: the WAN's DNS`);
      t.same(topo.dig(server, topo.probeName('other')).answers, [answers.mesh.txt], `others @${server}: the mesh's DNS`);
    }
    await mesh0.stop();
    t.equal(
      names.reduce((n, name) => n + mesh0.countName(name), 0),
      0,
      'no VPN-group query on mesh0',
    );
    t.equal(topo.unmarkedOnWan(), 0, 'no unmarked packet left through wan0');
  });
}
