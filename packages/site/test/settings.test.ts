import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConfig } from '@meshwan/uci';
import t from 'tap';
import { defaultSite, readSettings, SettingsError } from '../src/index.js';

function rootWith(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'site-settings-'));
  mkdirSync(join(root, 'etc/config'), { recursive: true });
  mkdirSync(join(root, 'tmp/.uci'), { recursive: true, mode: 0o700 });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, 'etc/config', name), text);
  return root;
}

t.test('no uci settings: Gluon defaults, as site.ini without keys', async (t) => {
  const { wanDns, ...rest } = defaultSite();
  t.same(readSettings(openConfig({ root: rootWith({}) })), { ...rest, wanDns: { listen: wanDns.listen, cacheSize: wanDns.cacheSize } });
});

t.test('the mark and table of netifd rule wan6_lookup, the rest from /etc/config/meshwan, staged changes included', async (t) => {
  const root = rootWith({
    network: "config rule6 'wan6_lookup'\n\toption mark '0x10/0x30'\n\toption lookup '010'\n",
    meshwan:
      "config mesh_vpn 'mesh_vpn'\n\toption group 'vpn'\n\toption gid '801'\n\nconfig wan_dns 'wan_dns'\n\tlist listen '127.0.0.1:5454'\n\toption cache_size '5'\n\nconfig firewall 'firewall'\n\toption backend 'iptables'\n",
  });
  openConfig({ root }).set('meshwan', 'mesh_vpn', 'gid', '802');
  t.same(readSettings(openConfig({ root })), {
    wan: { mark: 0x10, mask: 0x30, table: 8 },
    meshVpn: { group: 'vpn', gid: 802 },
    wanDns: { listen: [{ address: '127.0.0.1', port: 5454, family: 4 }], cacheSize: 5 },
    firewall: { backend: 'iptables' },
  });
  const noMask = rootWith({ network: "config rule6 'wan6_lookup'\n\toption mark '0x1'\n" });
  t.same(readSettings(openConfig({ root: noMask })).wan, { mark: 1, mask: 0xffffffff, table: 1 }, "netifd's mask default");
});

t.test('a bad value names file and option', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { network: "config rule6 'wan6_lookup'\n\toption mark '0x2/0x1'\n" },
      /network: wan6_lookup\.mark: mark 0x2 has bits outside mask 0x1/,
    ],
    [{ network: "config rule6 'wan6_lookup'\n\toption mark '1/1/1'\n" }, /wan6_lookup\.mark: expected MARK\[\/MASK\]/],
    [{ network: "config rule6 'wan6_lookup'\n\tlist mark '1'\n" }, /wan6_lookup\.mark: expected an option, not a list/],
    [{ network: "config rule6 'wan6_lookup'\n\toption lookup '254'\n" }, /wan6_lookup\.lookup: table 254/],
    [{ meshwan: "config mesh_vpn 'mesh_vpn'\n\toption gid 'x'\n" }, /meshwan: mesh_vpn\.gid: expected a number/],
    [{ meshwan: "config mesh_vpn 'mesh_vpn'\n\tlist gid '800'\n" }, /mesh_vpn\.gid: expected an option, not a list/],
    [{ meshwan: "config firewall 'firewall'\n\toption backend 'pf'\n" }, /firewall\.backend: expected one of auto, iptables, nft/],
  ];
  for (const [files, re] of cases) {
    const err = t.throws(() => readSettings(openConfig({ root: rootWith(files) })), re);
    t.ok(err instanceof SettingsError);
  }
});
