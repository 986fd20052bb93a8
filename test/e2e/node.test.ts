// tier: root: network namespaces, SO_MARK or firewall rules
// One whole node (staged firmware, upgrade scripts, meshwan daemon and wan-dns as their init scripts start them)
// taken through every scenario of issue #10 in turn: the leak test, the WAN's DNS server changed under load,
// drift made by hand and repaired, SIGKILL and respawn, 50 WAN flaps. One node for all of them keeps the suite
// short (a node costs several node.js starts); each scenario first waits for the node to be healthy again.
import t from 'tap';
import { waitFor } from '../lib/netns.js';
import { addr, answers } from '../lib/topology.js';
import { listening, lookupLoad, type MeshwanNode, runInNode } from '../sim/node.js';
import { fwmarkRule, redirectPresent, removeRedirect, unreachable } from './lib/drift.js';
import { queriesFor, removeFirmware, sleep, type TapLike, testNode } from './lib/harness.js';

// A whole node costs several node.js starts; tap's 30 s default per file is too short on 2 cores.
t.setTimeout(240_000);

t.teardown(removeFirmware);

/** Which WAN server answers now (the DNS-change scenario switches it). */
let wanAnswer: string = answers.wanA.txt;

async function healthy(t: TapLike & { pass(m: string): unknown }, node: MeshwanNode): Promise<void> {
  const { topo, gid } = node;
  await waitFor(
    `the VPN group answered by "${wanAnswer}"`,
    () => topo.dig(addr.meshDns6, topo.probeName('healthy'), { gid, timeoutSeconds: 1 }).answers[0] === wanAnswer,
    10_000,
  );
  t.pass(`the node is healthy: the VPN group is answered by "${wanAnswer}"`);
}

t.test('a whole node through every scenario', async (t) => {
  const node = await testNode(t);
  const { topo, gid } = node;

  await t.test('leak test: VPN-group DNS uses the WAN only, all other DNS the mesh; WAN down fails closed', async (t) => {
    await healthy(t, node);
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

    const check = runInNode(node, 'meshwan', ['check', '--root', node.fw.root]);
    t.equal(check.status, 0, `meshwan check passes: ${check.output.trim()}`);

    const down = await topo.capture('mesh0');
    await topo.setWanLink(false);
    const downNames: string[] = [];
    for (const server of [addr.meshDns6, addr.meshDns4]) {
      const name = topo.probeName('down');
      downNames.push(name);
      const r = topo.dig(server, name, { gid, timeoutSeconds: 4 });
      t.equal(r.status, 'SERVFAIL', `WAN down: VPN group @${server} gets SERVFAIL`);
    }
    await down.stop();
    t.equal(queriesFor(down, downNames), 0, 'WAN down: no VPN-group query on mesh0');
    t.equal(topo.unmarkedOnWan(), 0, 'WAN down: still no unmarked packet out wan0');
    await topo.setWanLink(true);
    await healthy(t, node);
  });

  await t.test('the WAN DNS server changed under load: zero failed lookups', async (t) => {
    await healthy(t, node);
    const loads = [
      lookupLoad(t, topo, addr.meshDns6, gid),
      lookupLoad(t, topo, addr.meshDns4, gid),
      lookupLoad(t, topo, addr.meshDns6, gid),
    ];
    await sleep(500);
    // As the hotplug hook after a DHCP renew: the resolv file rewritten atomically, the forwarder told (procd reload: SIGHUP).
    topo.wan.setStaticDns([addr.wanDnsB4, addr.wanDnsB6]);
    node.wanDns?.kill('SIGHUP');
    for (let i = 0; i < 50 && !loads.every((l) => l.current().last === answers.wanB.txt); i++) await sleep(100);
    await sleep(500);
    const results = await Promise.all(loads.map((l) => l.stop()));
    const total = results.reduce((n, r) => n + r.total, 0);
    const failures = results.reduce((n, r) => n + r.failures, 0);
    t.ok(total > 5, `the load ran (${total} lookups)`);
    t.equal(failures, 0, `zero failed lookups (${[...new Set(results.flatMap((r) => r.failed))].join(', ')})`);
    for (const r of results) t.equal(r.last, answers.wanB.txt, 'the new server answers');
    wanAnswer = answers.wanB.txt;
    // The old server may go away now: nothing may depend on it any more.
    await topo.nsd.wanA.stop();
    t.same(topo.dig(addr.meshDns6, topo.probeName('after'), { gid }).answers, [answers.wanB.txt], 'answered with the old server gone');
    t.equal(topo.unmarkedOnWan(), 0, 'no unmarked packet left through wan0');
  });

  await t.test('drift made by hand is repaired: table-1 routes, a WAN route in main, the rule, the redirect', async (t) => {
    await healthy(t, node);
    const ns = topo.node;
    /** Waits up to 5 s for `check`; an assertion either way, so one unrepaired drift does not hide the others. */
    const repaired = async (what: string, check: () => boolean): Promise<void> => {
      const ok = await waitFor(what, check, 5000).then(
        () => true,
        () => false,
      );
      t.ok(ok, what);
    };
    try {
      t.ok(unreachable(ns), 'table 1 has unreachable ::/0 metric 65535');
      ns.ip('-6', 'route', 'flush', 'table', '1');
      ns.try('ip', '-4', 'route', 'flush', 'table', '1'); // absent when the IPv4 WAN is not split
      await repaired('table 1 flushed by hand (both families): unreachable ::/0 metric 65535 is back', () => unreachable(ns));
      // The WAN's own default is gone with the flush (netifd would not notice either): the VPN group fails closed.
      const mesh0 = await topo.capture('mesh0');
      const flushed = topo.probeName('flushed');
      t.not(topo.dig(addr.meshDns6, flushed, { gid, timeoutSeconds: 4 }).answers[0], wanAnswer, 'without a WAN default: no answer');
      await mesh0.stop();
      t.equal(mesh0.countName(flushed), 0, 'and the query did not go to the mesh');
      await topo.setWanLink(true); // netifd's ifup puts the WAN's own routes back

      ns.ip('-6', 'route', 'add', '2001:db8:2::/64', 'via', addr.ispRouterLL, 'dev', 'wan0', 'table', 'main');
      await repaired(
        'a WAN route added to main by hand is taken out of main',
        () => !ns.ip('-6', 'route', 'show', 'table', 'main').includes('2001:db8:2::/64'),
      );
      ns.try('ip', '-6', 'route', 'del', '2001:db8:2::/64', 'table', 'main');

      t.ok(fwmarkRule(ns), 'the fwmark rule is there');
      ns.ip('-6', 'rule', 'del', 'fwmark', '0x1/0x1', 'lookup', '1');
      await repaired('the fwmark rule deleted by hand is back', () => fwmarkRule(ns));

      t.ok(redirectPresent(ns), 'the redirect is there');
      t.comment(`removed: ${removeRedirect(ns)}`);
      await repaired('the redirect removed by hand is back', () => redirectPresent(ns));
    } finally {
      await topo.setWanLink(true);
    }
    await healthy(t, node);
    t.equal(topo.unmarkedOnWan(), 0, 'no unmarked packet left through wan0');
  });

  await t.test('SIGKILL of meshwan daemon and wan-dns, respawned as procd would: no leak in between', async (t) => {
    await healthy(t, node);
    const { daemon, wanDns } = node;
    if (!daemon || !wanDns) throw new Error('services missing');
    const mesh0 = await topo.capture('mesh0');
    const vpn = lookupLoad(t, topo, addr.meshDns6, gid);
    const vpn4 = lookupLoad(t, topo, addr.meshDns4, gid);
    const other = lookupLoad(t, topo, addr.meshDns6, undefined);
    await sleep(300);
    const kills: string[] = [];
    const daemonPid = daemon.pid();
    kills.push(`daemon ${new Date().toISOString()}`);
    daemon.kill('SIGKILL');
    await sleep(200);
    t.ok(fwmarkRule(topo.node), 'the fwmark rule stays while the daemon is dead');
    await waitFor('the daemon respawned', () => daemon.pid() !== undefined && daemon.pid() !== daemonPid, 20_000);
    const dnsPid = wanDns.pid();
    kills.push(`wan-dns ${new Date().toISOString()}`);
    wanDns.kill('SIGKILL');
    await waitFor('wan-dns respawned', () => wanDns.pid() !== undefined && wanDns.pid() !== dnsPid, 20_000);
    await waitFor('wan-dns listening again', () => listening(topo, '127.0.0.1', 54) && listening(topo, '[::1]', 54), 10_000);
    const before = vpn.current().total;
    await waitFor('VPN-group lookups answered again', () => vpn.current().total > before + 2 && vpn.current().last === wanAnswer, 10_000);
    const [r6, r4, ro] = [await vpn.stop(), await vpn4.stop(), await other.stop()];
    await mesh0.stop();
    t.comment(`VPN-group lookups: ${r6.total + r4.total}; failed while the forwarder was down: ${r6.failures + r4.failures}`);
    t.equal(daemon.respawns(), 1, 'the daemon was respawned once');
    t.equal(wanDns.respawns(), 1, 'wan-dns was respawned once');
    t.equal(r4.last, wanAnswer, 'IPv4: the VPN group is answered by the WAN again');
    t.equal(ro.failures, 0, 'other processes never failed');
    t.equal(ro.last, answers.mesh.txt, 'other processes: the mesh');
    const queries = mesh0.packets('port 53');
    const leaked = queries.filter((l) => l.includes('vpnload-'));
    t.same(leaked, [], 'no VPN-group query on mesh0, before, during or after the kills');
    if (leaked.length > 0) t.comment(`kills at ${kills.join(', ')}; leaked: ${leaked.join(' | ')}`);
    t.ok(
      queries.some((l) => l.includes('otherload-')),
      'the capture on mesh0 did see the other processes',
    );
    t.equal(topo.unmarkedOnWan(), 0, 'no unmarked packet left through wan0');
  });

  await t.test('50 WAN link flaps, then the forwarder still answers (gluon #2950)', async (t) => {
    await healthy(t, node);
    const respawns = node.wanDns?.respawns();
    const mesh0 = await topo.capture('mesh0');
    const load = lookupLoad(t, topo, addr.meshDns6, gid);
    for (let i = 0; i < 50; i++) {
      await topo.setWanLink(false);
      await sleep(20);
      await topo.setWanLink(true);
      await sleep(20);
    }
    const flapping = await load.stop();
    t.comment(`${flapping.total} VPN-group lookups during the flaps, ${flapping.failures} failed (allowed while the WAN was down)`);
    await healthy(t, node);
    for (const server of [addr.meshDns6, addr.meshDns4]) {
      t.same(topo.dig(server, topo.probeName('after'), { gid }).answers, [wanAnswer], `and keeps answering (@${server})`);
    }
    t.equal(node.wanDns?.respawns(), respawns, 'wan-dns did not die during the flaps');
    await mesh0.stop();
    t.equal(mesh0.packets('port 53').filter((l) => l.includes('vpnload-')).length, 0, 'no VPN-group query on mesh0');
    t.equal(topo.unmarkedOnWan(), 0, 'no unmarked packet left through wan0');
  });
});
