// 50 WAN link flaps in a row, then the forwarder still answers (gluon #2950: Gluon's wan-dnsmasq lost its
// resolver after link flaps), and no VPN-group query went to the mesh while the WAN came and went.
import t from 'tap';
import { addr, answers } from '../lib/topology.js';
import { lookupLoad } from '../sim/node.js';
import { removeFirmware, skipUnless, sleep, testNode, wholeNode } from './lib/harness.js';

t.teardown(removeFirmware);

t.test('50 WAN flaps, then the forwarder still answers', { skip: skipUnless(wholeNode) }, async (t) => {
  const node = await testNode(t);
  const { topo, gid } = node;
  const mesh0 = await topo.capture('mesh0');
  const load = lookupLoad(topo, addr.meshDns6, gid);
  for (let i = 0; i < 50; i++) {
    await topo.setWanLink(false);
    await sleep(20);
    await topo.setWanLink(true);
    await sleep(20);
  }
  const flapping = await load.stop();
  t.comment(`${flapping.total} VPN-group lookups during the flaps, ${flapping.failures} failed (allowed while the WAN was down)`);
  const after = lookupLoad(topo, addr.meshDns6, gid);
  for (let i = 0; i < 50 && after.current().last !== answers.wanA.txt; i++) await sleep(100);
  const r = await after.stop();
  t.equal(r.last, answers.wanA.txt, 'after 50 flaps the VPN group is answered by the WAN again');
  for (const server of [addr.meshDns6, addr.meshDns4]) {
    t.same(topo.dig(server, topo.probeName('after'), { gid }).answers, [answers.wanA.txt], `and keeps being answered (@${server})`);
  }
  t.ok(node.wanDns?.pid() !== undefined && node.wanDns?.respawns() === 0, 'wan-dns never died');
  await mesh0.stop();
  t.equal(mesh0.packets('port 53').filter((l) => l.includes('vpnload-')).length, 0, 'no VPN-group query on mesh0');
  t.equal(topo.unmarkedOnWan(), 0, 'no unmarked packet left through wan0');
});
