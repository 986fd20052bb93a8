// The upgrade steps on staged roots, through the real @meshwan/uci: fresh, twice, Gluon-era, user-edited.
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSettings } from '@meshwan/site';
import { openConfig, Uci } from '@meshwan/uci';
import t, { type Test } from 'tap';
import { loopbackInterface } from '../../test/lib/netifd.js';
import { contextFor } from '../src/context.js';
import { upgradeMeshVpn, upgradeNetwork, upgradeSettings, upgradeWanDns } from '../src/steps.js';
import { openStore } from '../src/uci-store.js';
import { fixtures, makeRoot, read, sharedConfigs, snapshot, uciOf, upgrade, upgradeAgainChangesNothing } from './lib.js';

const freshNetwork = `
${loopbackInterface}
config interface 'wan'
\toption proto 'dhcp'
\toption peerdns '0'

config interface 'wan6'
\toption proto 'dhcpv6'
\toption device '@wan'
\toption peerdns '0'
\toption ip6table '1'
\toption sourcefilter '0'
\toption reqprefix 'no'

config rule6 'wan6_lookup'
\toption mark '0x01/0x01'
\toption lookup '1'

config route6 'wan6_unreachable'
\toption type 'unreachable'
\toption interface 'loopback'
\toption target '::/0'
\toption gateway '::'
\toption table '1'
\toption metric '65535'

`;

function noStagedChanges(t: Test, root: string): void {
  const savedir = join(root, 'tmp/.uci');
  const left = existsSync(savedir) ? readdirSync(savedir).filter((f) => statSync(join(savedir, f)).size > 0) : [];
  t.same(left, [], 'nothing left staged in /tmp/.uci');
}

t.test('a fresh root gets the whole end state, and a second run changes no file', async (t) => {
  const root = makeRoot(t);
  upgrade(root);
  t.equal(read(root, 'etc/config/network'), freshNetwork);
  t.equal(read(root, 'etc/config/gluon-wan-dnsmasq'), '\nconfig static\n\n');
  t.equal(
    read(root, 'etc/config/firewall'),
    "\nconfig include 'meshwan_dns'\n\toption type 'script'\n\toption path '/usr/lib/meshwan/firewall.include'\n\toption reload '1'\n\toption fw4_compatible '1'\n\n",
  );
  t.equal(read(root, 'etc/group'), 'wan-dns:x:54:\ngluon-mesh-vpn:x:800:\n');
  t.equal(read(root, 'etc/passwd'), 'wan-dns:x:54:54:wan-dns:/var/run/wan-dns:/bin/false\n');
  noStagedChanges(t, root);
  upgradeAgainChangesNothing(t, root, {}, 'byte-identical, and no file rewritten (same inode and mtime)');
});

t.test('a Gluon node: its network is already the end state and stays untouched; the stale include goes', async (t) => {
  const root = makeRoot(t, {
    'etc/config/network': join(fixtures, 'gluon/network'),
    'etc/config/firewall': join(fixtures, 'gluon/firewall'),
    'etc/config/gluon-wan-dnsmasq': join(fixtures, 'gluon/gluon-wan-dnsmasq'),
    'etc/group': join(fixtures, 'gluon/group'),
    'etc/passwd': join(fixtures, 'gluon/passwd'),
    'etc/shadow': join(fixtures, 'gluon/shadow'),
  });
  chmodSync(join(root, 'etc/shadow'), 0o600);
  const before = snapshot(root);
  upgrade(root);
  const after = snapshot(root);
  t.same(after.get('etc/config/network'), before.get('etc/config/network'), 'network: not even rewritten');
  t.same(after.get('etc/config/gluon-wan-dnsmasq'), before.get('etc/config/gluon-wan-dnsmasq'));
  const firewall = read(root, 'etc/config/firewall');
  t.notMatch(firewall, /mesh_vpn_dns/, 'Gluon include without its file is removed');
  t.match(firewall, /config include 'meshwan_dns'/);
  t.match(firewall, /config rule 'wan_igmp'/, "Gluon's own rules stay");
  t.equal(read(root, 'etc/group'), `${before.get('etc/group')?.text}wan-dns:x:54:\n`, 'gid 800 kept, nothing duplicated');
  t.match(read(root, 'etc/passwd'), /\nwan-dns:x:54:54:wan-dns:\/var\/run\/wan-dns:\/bin\/false\n$/);
  t.match(read(root, 'etc/shadow'), /\nwan-dns:x:0:0:99999:7:::\n$/);
  t.equal(statSync(join(root, 'etc/shadow')).mode & 0o777, 0o600, '/etc/shadow keeps its mode');
  noStagedChanges(t, root);
  upgradeAgainChangesNothing(t, root);
});

t.test('Gluon include kept while its file exists (Gluon firmware with meshwan added)', async (t) => {
  const root = makeRoot(t, { 'etc/config/firewall': join(fixtures, 'gluon/firewall') });
  mkdirSync(join(root, 'lib/gluon/mesh-vpn'), { recursive: true });
  writeFileSync(join(root, 'lib/gluon/mesh-vpn/iptables.rules'), '*nat\nCOMMIT\n');
  upgrade(root);
  t.match(read(root, 'etc/config/firewall'), /config include 'mesh_vpn_dns'/);
});

t.test('an older Gluon-era config: interrupted upgrade and anonymous copies migrate without duplicates', async (t) => {
  const root = makeRoot(t, {
    'etc/config/network': join(fixtures, 'gluon/network-old-style'),
    'etc/config/network_gluon-old': join(fixtures, 'gluon/network_gluon-old'),
  });
  upgrade(root);
  const uci = uciOf(root);
  const sections = uci.sections('network');
  t.same(
    sections.filter((s) => s.type === 'rule6').map((s) => s.name),
    ['wan6_lookup'],
  );
  t.same(
    sections.filter((s) => s.type === 'route6').map((s) => s.name),
    ['wan6_unreachable'],
  );
  t.same(
    uci.sections('network', 'interface').map((s) => s.name),
    ['loopback', 'wan', 'wan6'],
  );
  t.equal(uci.get('network', 'wan', 'proto'), 'static');
  t.equal(uci.get('network', 'wan', 'ipaddr'), '198.51.100.2');
  t.equal(uci.get('network', 'wan', 'ifname'), 'eth0', "the node's own device naming stays");
  t.equal(uci.get('network', 'wan', 'type'), 'bridge');
  t.equal(uci.get('network', 'wan6', 'ip6addr'), '2001:db8:1::2/64');
  t.equal(uci.get('network', 'wan6', 'ifname'), 'br-wan');
  t.equal(uci.get('network', 'wan6', 'device'), undefined, 'no device added next to an ifname');
  t.equal(uci.get('network', 'wan6', 'ip6table'), '1');
  t.notOk(existsSync(join(root, 'etc/config/network_gluon-old')), 'the old copy goes once committed');
  upgradeAgainChangesNothing(t, root);
});

t.test("Gluon's 998-commit in the firmware keeps network_gluon-old for it to delete", async (t) => {
  const root = makeRoot(t, {
    'etc/config/network': join(fixtures, 'gluon/network-old-style'),
    'etc/config/network_gluon-old': join(fixtures, 'gluon/network_gluon-old'),
    'lib/gluon/upgrade/998-commit': join(fixtures, 'gluon/group'),
  });
  upgrade(root);
  t.ok(existsSync(join(root, 'etc/config/network_gluon-old')));
});

t.test("a user's static WAN on a VLAN with a fixed MAC and own DNS servers survives", async (t) => {
  const root = makeRoot(t, {
    'etc/config/network': join(fixtures, 'user/network'),
    'etc/config/gluon-wan-dnsmasq': join(fixtures, 'user/gluon-wan-dnsmasq'),
  });
  mkdirSync(join(root, 'lib/gluon'), { recursive: true });
  writeFileSync(join(root, 'lib/gluon/site.ini'), '[wan]\ntable = 7\n[wan_dns]\nserver[] = 203.0.113.53\n');
  const wanDnsBefore = read(root, 'etc/config/gluon-wan-dnsmasq');
  upgrade(root);
  const uci = uciOf(root);
  t.same(uci.sections('network', 'interface').find((s) => s.name === 'wan')?.options, {
    device: 'eth0.7',
    proto: 'static',
    ipaddr: '192.0.2.10',
    netmask: '255.255.255.0',
    gateway: '192.0.2.1',
    dns: ['192.0.2.53'],
    macaddr: '02:00:00:00:00:07',
    peerdns: '0',
  });
  t.same(uci.sections('network', 'device')[0]?.options, { type: '8021q', ifname: 'eth0', vid: '7', name: 'eth0.7' });
  t.equal(uci.get('network', 'wan6', 'ip6addr'), '2001:db8::10/64');
  t.equal(uci.get('network', 'wan6', 'ip6table'), '7', 'table from the site file');
  t.equal(uci.get('network', 'wan6_lookup', 'lookup'), '7');
  t.equal(uci.get('network', 'wan6_unreachable', 'table'), '7');
  t.equal(read(root, 'etc/config/gluon-wan-dnsmasq'), wanDnsBefore, "the user's servers win over the site's");
  upgradeAgainChangesNothing(t, root);
});

t.test('the site servers seed an empty static list; OpenWrt default network gains wan', async (t) => {
  const root = makeRoot(t, {
    'etc/config/network': join(sharedConfigs, 'ow_network'),
    'etc/config/firewall': join(sharedConfigs, 'ow_firewall'),
  });
  const owFirewall = new Uci({ confdir: join(sharedConfigs), savedir: join(root, 'nonexistent'), conf2dir: null }).sections('ow_firewall');
  upgrade(root, { MESHWAN_SITE: join(fixtures, 'site-servers.ini') });
  t.equal(
    read(root, 'etc/config/gluon-wan-dnsmasq'),
    "\nconfig static\n\tlist server '192.0.2.53'\n\tlist server '[2001:db8::53]:5353'\n\n",
  );
  const uci = uciOf(root);
  t.same(
    uci.sections('network', 'interface').map((s) => s.name),
    ['loopback', 'lan', 'wan6', 'wan'],
  );
  t.equal(uci.get('network', 'wan6', 'ifname'), '@wan');
  t.equal(uci.get('network', 'lan', 'ipaddr'), '192.168.1.1');
  const firewall = uci.sections('firewall');
  t.same(firewall.slice(0, -1), owFirewall, "OpenWrt's firewall sections stay as they were");
  t.same(firewall.at(-1)?.name, 'meshwan_dns', 'our include is appended');
  upgradeAgainChangesNothing(t, root, { MESHWAN_SITE: join(fixtures, 'site-servers.ini') });
});

t.test('staged, not committed: no config file changes before 990, and an interrupted upgrade resumes', async (t) => {
  const files = {
    'etc/config/network': join(fixtures, 'gluon/network-old-style'),
    'etc/config/network_gluon-old': join(fixtures, 'gluon/network_gluon-old'),
    'etc/config/firewall': join(fixtures, 'gluon/firewall'),
  };
  const clean = makeRoot(t, files);
  upgrade(clean);

  // Interrupted after the scripts staged their changes: nothing in /etc/config changed yet, and uci sees them.
  const resumed = makeRoot(t, files);
  const before = snapshot(resumed);
  for (const step of [upgradeSettings, upgradeNetwork, upgradeWanDns, upgradeMeshVpn]) {
    const ctx = contextFor(resumed, {});
    step(ctx, openStore(ctx));
  }
  for (const path of ['etc/config/network', 'etc/config/network_gluon-old', 'etc/config/firewall']) {
    t.same(snapshot(resumed).get(path), before.get(path), `${path} untouched before the commit`);
  }
  const uci = uciOf(resumed);
  t.ok(uci.changes('network').length > 0, "OpenWrt's uci sees the staged network changes");
  // Resume with the staged changes still there (no reboot)...
  upgrade(resumed);
  t.same(texts(resumed), texts(clean));

  // ...and after a reboot, which empties /tmp/.uci (tmpfs): the saved copy is still there, so nothing is lost.
  const rebooted = makeRoot(t, files);
  for (const step of [upgradeSettings, upgradeNetwork, upgradeWanDns, upgradeMeshVpn]) {
    const ctx = contextFor(rebooted, {});
    step(ctx, openStore(ctx));
  }
  rmSync(join(rebooted, 'tmp/.uci'), { recursive: true, force: true });
  upgrade(rebooted);
  t.same(texts(rebooted), texts(clean));
});

function texts(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, state] of snapshot(root)) if (!path.startsWith('tmp/')) out.set(path, state.text);
  return out;
}

t.test(
  '105-meshwan-settings: the site run-time values land in uci, where every daemon reads them; a second run changes nothing',
  async (t) => {
    const root = makeRoot(t);
    mkdirSync(join(root, 'lib/gluon'), { recursive: true });
    writeFileSync(
      join(root, 'lib/gluon/site.ini'),
      '[wan]\nmark = 0x4\nmask = 0x4\ntable = 7\n[mesh_vpn]\ngid = 900\n[wan_dns]\nlisten[] = 127.0.0.1:5454\ncache_size = 10\n[firewall]\nbackend = nft\n',
    );
    upgrade(root);
    const settings = readSettings(openConfig({ root }));
    t.same(settings, {
      wan: { mark: 4, mask: 4, table: 7 },
      meshVpn: { group: 'gluon-mesh-vpn', gid: 900 },
      wanDns: { listen: [{ address: '127.0.0.1', port: 5454, family: 4 }], cacheSize: 10 },
      firewall: { backend: 'nft' },
    });
    t.match(read(root, 'etc/config/meshwan'), /config mesh_vpn 'mesh_vpn'\n\toption group 'gluon-mesh-vpn'\n\toption gid '900'/);
    upgradeAgainChangesNothing(t, root, {}, 'idempotent to the byte');
  },
);
