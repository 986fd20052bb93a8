// The leak test: the VPN group's lookups go to the WAN's DNS and nowhere else, everyone else's go to the mesh's,
// proven by which server answered, by captures on both sides and by an nft counter of unmarked packets out wan0.
// Then the WAN goes down (SERVFAIL, still nothing on the mesh) and comes back.
import t from 'tap';
import { addr, answers } from '../lib/topology.js';
import { lookupLoad } from '../sim/node.js';
import { queriesFor, removeFirmware, skipUnless, sleep, testNode, wholeNode } from './lib/harness.js';

t.teardown(removeFirmware);

t.test(
  'VPN-group DNS uses the WAN only; all other DNS uses the mesh; WAN down fails closed',
  { skip: skipUnless(wholeNode) },
  async (t) => {
    const node = await testNode(t);
    const { topo, gid } = node;
    const mesh0 = await topo.capture('mesh0');
    const wan0 = await topo.capture('wan0');
    const vpnNames: string[] = [];
    const otherNames: string[] = [];
    for (const server of [addr.meshDns6, addr.meshDns4]) {
      for (const tcp of [false, true]) {
        const how = `@${server}${tcp ? ' over TCP' : ''}`;
        const vpn = topo.probeName('vpn');
        vpnNames.push(vpn);
        const v = topo.dig(server, vpn, { gid, tcp });
        t.same(v.answers, [answers.wanA.txt], `VPN group ${how}: answered by the WAN's DNS (${v.status})`);
        const other = topo.probeName('other');
        otherNames.push(other);
        const o = topo.dig(server, other, { tcp });
        t.same(o.answers, [answers.mesh.txt], `any other process ${how}: answered by the mesh's DNS (${o.status})`);
        const nobody = topo.dig(server, topo.probeName('nobody'), { tcp, uid: 65534, gid: 65534 });
        t.same(nobody.answers, [answers.mesh.txt], `an unprivileged user ${how}: the mesh's DNS`);
      }
    }
    await mesh0.stop();
    await wan0.stop();
    t.equal(queriesFor(mesh0, vpnNames), 0, 'no VPN-group query on mesh0');
    t.equal(queriesFor(wan0, otherNames), 0, "no other process's query on wan0");
    t.ok(queriesFor(wan0, vpnNames) >= vpnNames.length, 'the VPN-group queries left through wan0');
    t.equal(topo.unmarkedOnWan(), 0, 'no unmarked packet left through wan0');

    const check = topo.node.try(process.execPath, node.fw.bundle('meshwan'), 'check', '--root', node.fw.root);
    t.equal(check.status, 0, `meshwan check passes: ${check.stdout}${check.stderr}`);

    const down = await topo.capture('mesh0');
    await topo.setWanLink(false);
    const downNames: string[] = [];
    for (const server of [addr.meshDns6, addr.meshDns4]) {
      const name = topo.probeName('down');
      downNames.push(name);
      t.equal(topo.dig(server, name, { gid, timeoutSeconds: 4 }).status, 'SERVFAIL', `WAN down: VPN group @${server} gets SERVFAIL`);
    }
    await down.stop();
    t.equal(queriesFor(down, downNames), 0, 'WAN down: no VPN-group query on mesh0');
    t.equal(topo.unmarkedOnWan(), 0, 'WAN down: still no unmarked packet out wan0');

    await topo.setWanLink(true);
    const load = lookupLoad(topo, addr.meshDns6, gid);
    for (let i = 0; i < 50 && load.current().last !== answers.wanA.txt; i++) await sleep(100);
    const back = await load.stop();
    t.equal(back.last, answers.wanA.txt, `WAN back: answered by the WAN's DNS again (${back.total} lookups)`);
  },
);
