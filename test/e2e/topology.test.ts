// tier: root: network namespaces, SO_MARK or firewall rules
// The topology library itself (test/lib/topology.ts), checked with plain dig and ip, before any meshwan part runs:
// each DNS server answers with its own name, the WAN is reachable only through table 1, and teardown leaves nothing.
import { existsSync } from 'node:fs';
import t from 'tap';
import { isRoot, namespacesOfThisRun } from '../lib/netns.js';
import { requireParts } from '../lib/require.js';
import { addr, createTopology, parseRdisc6 } from '../lib/topology.js';

requireParts(!isRoot() && 'needs root (network namespaces)');

// A whole node costs several node.js starts; tap's 30 s default per file is too short on 2 cores.
t.setTimeout(240_000);

t.test('parseRdisc6 reads prefix, RDNSS and router', async (t) => {
  const out = ' Prefix                   : 2001:db8:1::/64\n Recursive DNS server     : 2001:db8:2::53\n from fe80::1\n';
  t.same(parseRdisc6(out), { prefix: '2001:db8:1::/64', rdnss: ['2001:db8:2::53'], router: 'fe80::1' });
});

for (const wanMode of ['static', 'dhcp'] as const) {
  t.test(`${wanMode} WAN: every server answers as itself, and the WAN only through table 1`, async (t) => {
    let resolv = '';
    let pids: number[] = [];
    let stateDir = '';
    await t.test('topology', async (t) => {
      const topo = await createTopology(t, { wanMode });
      pids = [topo.nsd.wanA.pid, topo.nsd.wanB.pid, topo.nsd.mesh.pid];
      stateDir = topo.stateDir;
      // From the routers themselves: each server names itself.
      t.match(topo.isp.exec('dig', '+short', `@${addr.wanDnsA4}`, 'probe.meshwan.test', 'TXT'), /"wan-a"/);
      t.match(topo.isp.exec('dig', '+short', `@${addr.wanDnsB6}`, 'probe.meshwan.test', 'TXT'), /"wan-b"/);
      // From the node, unmarked: the mesh DNS answers through main; the WAN's DNS is not reachable (no route in main).
      for (const server of [addr.meshDns4, addr.meshDns6]) {
        t.same(topo.dig(server, topo.probeName('mesh')).answers, ['mesh'], `mesh DNS ${server} via main`);
      }
      const viaMain = topo.dig(addr.wanDnsA6, topo.probeName('nowan'), { timeoutSeconds: 1 });
      t.not(viaMain.status, 'NOERROR', 'WAN DNS is not reachable without table 1');
      // With a rule sending the WAN DNS prefixes to table 1 (a stand-in for the fwmark rule), the WAN answers.
      topo.node.ip('rule', 'add', 'to', '203.0.113.0/24', 'lookup', '1', 'priority', '100');
      topo.node.ip('-6', 'rule', 'add', 'to', '2001:db8:2::/64', 'lookup', '1', 'priority', '100');
      const capture = await topo.capture('wan0');
      const name = topo.probeName('wan');
      t.same(topo.dig(addr.wanDnsA4, name).answers, ['wan-a'], 'WAN DNS over IPv4 via table 1');
      t.same(topo.dig(addr.wanDnsA6, name).answers, ['wan-a'], 'WAN DNS over IPv6 via table 1');
      t.same(topo.dig(addr.wanDnsB4, name, { tcp: true }).answers, ['wan-b'], 'second WAN DNS over TCP');
      await capture.stop();
      t.equal(capture.countName(name), 3, 'the capture on wan0 saw the three queries');
      t.ok(topo.unmarkedOnWan() > 0, 'the witness counts unmarked packets on wan0');
      t.match(topo.node.ip('-6', 'route', 'show', 'table', '1'), /default via fe80::1 dev wan0/);
      t.match(topo.node.ip('route', 'show', 'table', '1'), /default via 192\.0\.2\.1 dev wan0/);
      const main6 = topo.node.ip('-6', 'route', 'show', 'table', 'main').split('\n');
      t.same(
        main6.filter((l) => l.includes('wan0') && !l.startsWith('fe80::/64')),
        [],
        'no WAN route in main but the link-local one',
      );
      t.notMatch(topo.node.ip('route', 'show', 'table', 'main'), /wan0/, 'no IPv4 WAN route in main');
      resolv = topo.wan.dnsServers().join(' ');
      if (wanMode === 'dhcp') {
        await topo.dhcp?.setDnsServers([addr.wanDnsB4], [addr.wanDnsB6]);
        await topo.wan.renew();
        t.same(topo.wan.dnsServers(), [addr.wanDnsB4, addr.wanDnsB6], 'renew picks up the new servers');
      }
      await topo.setWanLink(false);
      t.equal(topo.dig(addr.wanDnsA4, topo.probeName('down'), { timeoutSeconds: 1 }).status === 'NOERROR', false, 'WAN down');
      await topo.setWanLink(true);
      t.same(topo.dig(addr.wanDnsA4, topo.probeName('up')).answers, ['wan-a'], 'WAN back');
    });
    t.equal(resolv, `${addr.wanDnsA4} ${addr.wanDnsA6}`, 'resolv file lists the WAN servers');
    t.same(namespacesOfThisRun(), [], 'teardown deleted every namespace of this run');
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    t.same(alive, [], 'teardown stopped every server it started');
    t.notOk(existsSync(stateDir), 'and removed their configs, logs and captures');
  });
}
