// Switching a node in place, as sysupgrade does it (it keeps /etc/config, /etc/passwd, /etc/group, /etc/shadow:
// base-files' conffiles and keep.d), from stock Gluon to meshwan and back. The scripts run as staged (sh over
// meshwan-js bytecode) through meshwan-reconfigure --root; Gluon's side is test/gluon-stock.ts, its Lua replayed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import t, { type Test } from 'tap';
import { openwrtTools } from '../../test/lib/openwrt.js';
import { gluonDhcp, gluonFirewall, gluonNetwork } from './gluon-stock.js';
import { fixtures, makeRoot, read, sharedConfigs, snapshot, uciOf } from './lib.js';
import { stageScripts } from './staged.js';

// Two runs of five meshwan-js processes per test, on a loaded 2-core machine.
t.setTimeout(240_000);

const staged = await stageScripts(t);
const repo = new URL('../..', import.meta.url).pathname;
const uciBin = openwrtTools().uci;

/** gluon-mesh-vpn-core's files/lib/gluon/mesh-vpn/iptables.rules, byte for byte. */
const gluonIptablesRules =
  '*nat\n-I OUTPUT -m owner --gid-owner gluon-mesh-vpn -o lo -d 127.0.0.1 -p udp --dport 53 -j DNAT --to-destination :54\nCOMMIT\n';

interface NodeOptions {
  /** The stock network fixture (network: DHCP WAN; network-static: config mode's static WAN). */
  readonly network?: string;
  /** gluon-mesh-vpn-core in the firmware (a Gluon site with a mesh VPN): its iptables.rules exists. */
  readonly meshVpnCore?: boolean;
}

/** A stock Gluon node's /etc and firmware files: OpenWrt's firewall and dhcp with Gluon's edits (gluon-stock.ts). */
function stockGluon(t: Test, opts: NodeOptions = {}): string {
  const root = makeRoot(t, {
    'etc/config/network': join(fixtures, 'stock-gluon', opts.network ?? 'network'),
    'etc/config/firewall': join(sharedConfigs, 'ow_firewall'),
    'etc/config/dhcp': join(sharedConfigs, 'ow_dnsmasq-dhcp'),
    // gluon-wan-dnsmasq's files/etc/config/gluon-wan-dnsmasq (its conffile)
    'etc/config/gluon-wan-dnsmasq': join(fixtures, 'gluon/gluon-wan-dnsmasq'),
    'etc/group': join(fixtures, 'gluon/group'),
    'etc/passwd': join(fixtures, 'gluon/passwd'),
    'etc/shadow': join(fixtures, 'gluon/shadow'),
  });
  // OpenWrt's firewall package ships /etc/firewall.user (a conffile), which its default config includes.
  firmwareFile(root, 'etc/firewall.user', '# This file is interpreted as shell script.\n');
  gluonFirewall(root);
  gluonDhcp(root);
  if (opts.meshVpnCore ?? true) firmwareFile(root, 'lib/gluon/mesh-vpn/iptables.rules', gluonIptablesRules);
  return root;
}

function firmwareFile(root: string, path: string, text: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** The meshwan image's own files the configs name: its scripts and its firewall include. */
function meshwanFirmware(root: string): void {
  staged.install(root);
  firmwareFile(root, 'usr/lib/meshwan/firewall.include', readFileSync(join(repo, 'files/usr/lib/meshwan/firewall.include'), 'utf8'));
}

/** Back to the stock image: meshwan's firmware files go, Gluon's come (sysupgrade replaces the whole rootfs). */
function stockFirmware(root: string, meshVpnCore: boolean): void {
  rmSync(join(root, 'usr/lib/meshwan'), { recursive: true, force: true });
  rmSync(join(root, 'lib/gluon/upgrade'), { recursive: true, force: true });
  if (meshVpnCore) firmwareFile(root, 'lib/gluon/mesh-vpn/iptables.rules', gluonIptablesRules);
}

/** files/usr/lib/meshwan/uninstall as on a node: sh with OpenWrt's own uci on the PATH. */
function uninstall(root: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('sh', [join(repo, 'files/usr/lib/meshwan/uninstall')], {
    encoding: 'utf8',
    env: { PATH: `${dirname(uciBin)}:/usr/bin:/bin`, MESHWAN_ROOT: root },
  });
}

function reconfigure(t: Test, root: string): void {
  const run = staged.reconfigure(root);
  t.equal(run.stderr, '', 'no script complains');
  t.equal(run.status, 0, 'meshwan-reconfigure succeeds');
}

/**
 * A sysupgrade from stock Gluon to meshwan in place: the kept files stay, Gluon's 001-reset-uci has moved network
 * to network_gluon-old (and its scripts made the same network again), meshwan's firmware files arrive, and the
 * upgrade scripts run.
 */
function flashMeshwanOver(t: Test, root: string): void {
  copyFileSync(join(root, 'etc/config/network'), join(root, 'etc/config/network_gluon-old'));
  meshwanFirmware(root);
  reconfigure(t, root);
}

/** The node's kept files (/etc), as text. */
function etc(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, state] of snapshot(root)) if (path.startsWith('etc/')) out.set(path, state.text);
  return out;
}

type Sections = Record<string, { type: string; options: Readonly<Record<string, string | readonly string[]>> }>;

/** A config's sections by name (anonymous ones by libuci's name, which is stable for an unchanged file). */
function sections(root: string, pkg: string): Sections {
  const out: Sections = {};
  for (const s of uciOf(root).sections(pkg)) out[s.name] = { type: s.type, options: s.options };
  return out;
}

/** Lines of `after` that are not in `before`, after checking every line of `before` is still there, in order. */
function addedLines(t: Test, before: string, after: string, file: string): string[] {
  const kept = after.split('\n').filter((line) => before.split('\n').includes(line));
  t.same(kept, before.split('\n'), `${file}: every stock line kept, in order`);
  return after.split('\n').filter((line) => !before.split('\n').includes(line));
}

/** No stale Gluon section that would conflict with meshwan's, in a migrated node's config. */
function noConflicts(t: Test, root: string): void {
  const network = uciOf(root).sections('network');
  t.same(
    network.filter((s) => s.type === 'rule6' || s.type === 'rule').map((s) => [s.name, s.options.mark, s.options.lookup]),
    [['wan6_lookup', '0x01/0x01', '1']],
    'one rule for the mark: no duplicate',
  );
  t.same(
    network.filter((s) => s.type === 'route6' || s.type === 'route').map((s) => s.name),
    ['wan6_unreachable'],
    'one unreachable floor in table 1',
  );
  const includes = uciOf(root).sections('firewall', 'include');
  for (const inc of includes) {
    t.ok(existsSync(join(root, String(inc.options.path))), `firewall include ${inc.name} names a file the firmware has`);
  }
  // The only port-53 redirect besides meshwan's is Gluon's restore file, and it goes to the same :54.
  for (const inc of includes.filter((i) => i.options.type === 'restore')) {
    const rules = readFileSync(join(root, String(inc.options.path)), 'utf8');
    for (const line of rules.split('\n').filter((l) => l.includes('--dport 53'))) t.match(line, /-j DNAT --to-destination :54$/);
  }
  const wanDns = uciOf(root).sections('gluon-wan-dnsmasq');
  t.same(
    wanDns.map((s) => s.type),
    ['static'],
    'one forwarder config: the first `static` section, read by wan-dns as by update.lua',
  );
  const dnsmasq = uciOf(root).sections('dhcp', 'dnsmasq');
  t.equal(dnsmasq.length, 1, 'one dnsmasq in dhcp (the mesh resolver); the WAN forwarder is not a dhcp instance');
  t.equal(dnsmasq[0]?.options.port, undefined, 'nothing else claims port 54');
  const savedir = join(root, 'tmp/.uci');
  const staged = existsSync(savedir) ? readdirSync(savedir).filter((f) => readFileSync(join(savedir, f)).length > 0) : [];
  t.same(staged, [], 'nothing left staged');
}

for (const meshVpnCore of [true, false]) {
  const variant = meshVpnCore ? 'with gluon-mesh-vpn-core' : 'without gluon-mesh-vpn-core';

  t.test(`A (${variant}): stock Gluon -> meshwan is a fresh meshwan flash; a second run changes nothing`, async (t) => {
    // Fresh flash of the meshwan image: Gluon's scripts make the same stock config from OpenWrt's defaults (they
    // are the same scripts), the conffiles come from the image (meshwan-wan-dns's gluon-wan-dnsmasq), then ours.
    const fresh = stockGluon(t, { meshVpnCore });
    copyFileSync(join(repo, 'files/etc/config/gluon-wan-dnsmasq'), join(fresh, 'etc/config/gluon-wan-dnsmasq'));
    meshwanFirmware(fresh);
    reconfigure(t, fresh);

    // In place: sysupgrade kept the stock node's files; Gluon's 001-reset-uci moved network to network_gluon-old
    // and its scripts generated the same network again; then ours run.
    const node = stockGluon(t, { meshVpnCore });
    const stock = etc(node);
    flashMeshwanOver(t, node);

    const migrated = etc(node);
    const freshEtc = etc(fresh);
    // The one documented difference: the kept conffile is Gluon's text (its comment), with the same sections.
    t.same(sections(node, 'gluon-wan-dnsmasq'), sections(fresh, 'gluon-wan-dnsmasq'));
    t.equal(migrated.get('etc/config/gluon-wan-dnsmasq'), stock.get('etc/config/gluon-wan-dnsmasq'), "the node's own file, untouched");
    migrated.delete('etc/config/gluon-wan-dnsmasq');
    freshEtc.delete('etc/config/gluon-wan-dnsmasq');
    t.same(migrated, freshEtc, 'every other kept file is byte-identical to a fresh flash');
    t.notOk(migrated.has('etc/config/network_gluon-old'), 'the moved-away copy is gone once committed');
    t.equal(migrated.get('etc/config/network'), stock.get('etc/config/network'), "Gluon's network is already meshwan's end state");
    t.equal(migrated.get('etc/config/dhcp'), stock.get('etc/config/dhcp'), 'dhcp is not touched');
    t.equal(
      uciOf(node)
        .sections('firewall', 'include')
        .some((s) => s.name === 'mesh_vpn_dns'),
      meshVpnCore,
      "Gluon's include stays exactly while its file is in the firmware",
    );
    noConflicts(t, node);

    const before = snapshot(node);
    reconfigure(t, node);
    t.same(snapshot(node), before, 'idempotent: no byte, inode or mtime changes');
  });

  t.test(`B (${variant}): meshwan -> stock Gluon; meshwan leaves only what Gluon rewrites or ignores`, async (t) => {
    const node = stockGluon(t, { meshVpnCore });
    const stockRoot = stockGluon(t, { meshVpnCore });
    const stock = etc(stockRoot);
    flashMeshwanOver(t, node);
    const meshwan = etc(node);

    // What sysupgrade carries back: /etc/config (base-files' conffiles name the directory), passwd, group, shadow.
    const configs = (files: Map<string, string>): string[] => [...files.keys()].filter((p) => p.startsWith('etc/config/')).sort();
    t.same(
      configs(meshwan),
      [...configs(stock), 'etc/config/meshwan'].sort(),
      'one file of its own: /etc/config/meshwan, which nothing in stock Gluon reads',
    );
    for (const file of ['etc/config/network', 'etc/config/dhcp', 'etc/config/gluon-wan-dnsmasq']) {
      t.equal(meshwan.get(file), stock.get(file), `${file}: as stock Gluon left it`);
    }
    // firewall: meshwan's include is the one section stock Gluon does not know. Without gluon-mesh-vpn-core,
    // Gluon's mesh_vpn_dns (naming a file that image lacks) is gone, and Gluon's 500-mesh-vpn:25-31 writes it again.
    const firewall = sections(node, 'firewall');
    const stockFirewall = sections(stockRoot, 'firewall');
    t.same(
      Object.keys(firewall).filter((n) => !(n in stockFirewall)),
      ['meshwan_dns'],
    );
    t.same(
      Object.keys(stockFirewall).filter((n) => !(n in firewall)),
      meshVpnCore ? [] : ['mesh_vpn_dns'],
    );
    for (const [name, s] of Object.entries(stockFirewall)) if (name in firewall) t.same(firewall[name], s, `firewall.${name} unchanged`);
    // Accounts: every stock line stays (gluon-mesh-vpn keeps gid 800, gluon-mesh-vpn-core's USERID); wan-dns is added.
    t.same(addedLines(t, stock.get('etc/group') ?? '', meshwan.get('etc/group') ?? '', 'group'), ['wan-dns:x:54:']);
    t.same(addedLines(t, stock.get('etc/passwd') ?? '', meshwan.get('etc/passwd') ?? '', 'passwd'), [
      'wan-dns:x:54:54:wan-dns:/var/run/wan-dns:/bin/false',
    ]);
    t.same(addedLines(t, stock.get('etc/shadow') ?? '', meshwan.get('etc/shadow') ?? '', 'shadow'), ['wan-dns:x:0:0:99999:7:::']);

    // Gluon's image boots with these files and runs its scripts again (gluon-stock.ts replays them).
    stockFirmware(node, meshVpnCore);
    gluonNetwork(node);
    gluonFirewall(node);
    gluonDhcp(node);
    const back = etc(node);
    for (const file of ['etc/config/network', 'etc/config/dhcp', 'etc/config/gluon-wan-dnsmasq']) {
      t.equal(back.get(file), stock.get(file), `${file}: byte-identical to stock after Gluon's scripts`);
    }
    const backFirewall = sections(node, 'firewall');
    t.same(
      Object.keys(backFirewall).filter((n) => !(n in stockFirewall)),
      ['meshwan_dns'],
      "stale: meshwan's include, which Gluon's scripts neither write nor delete",
    );
    for (const [name, s] of Object.entries(stockFirewall)) t.same(backFirewall[name], s, `firewall.${name} as stock`);
    // fw3 (Gluon's firewall) skips a script include whose file is missing and loads the rest: firewall3
    // includes.c run_include(): stat() fails -> "Skipping due to path error".
    t.notOk(existsSync(join(node, String(backFirewall.meshwan_dns?.options.path))), "its script is not in Gluon's image");
  });
  t.test(`B (${variant}): after /usr/lib/meshwan/uninstall, stock Gluon's scripts bring back the stock config`, async (t) => {
    const node = stockGluon(t, { meshVpnCore });
    const stockRoot = stockGluon(t, { meshVpnCore });
    flashMeshwanOver(t, node);
    const run = uninstall(node);
    t.equal(run.stderr, '');
    t.equal(run.status, 0);
    const again = uninstall(node);
    t.equal(again.status, 0, 'a second run finds nothing to do and succeeds');
    stockFirmware(node, meshVpnCore);
    gluonNetwork(node);
    gluonFirewall(node);
    gluonDhcp(node);
    const back = etc(node);
    const stock = etc(stockRoot);
    const configs = (files: Map<string, string>): string[] => [...files.keys()].filter((p) => p.startsWith('etc/config/')).sort();
    t.same(configs(back), configs(stock), "no file of meshwan's left in /etc/config");
    for (const file of configs(stock)) {
      if (file === 'etc/config/firewall')
        t.same(sections(node, 'firewall'), sections(stockRoot, 'firewall'), 'firewall: the stock sections');
      else t.equal(back.get(file), stock.get(file), `${file}: byte-identical to stock`);
    }
  });
}

t.test('A: a static WAN set in Gluon config mode carries over, and carries back', async (t) => {
  const node = stockGluon(t, { network: 'network-static' });
  const stockNetwork = read(node, 'etc/config/network');
  flashMeshwanOver(t, node);
  t.equal(read(node, 'etc/config/network'), stockNetwork, 'static addresses, gateway and Gluon options unchanged');
  noConflicts(t, node);
  stockFirmware(node, true);
  gluonNetwork(node);
  t.same(sections(node, 'network'), sectionsOfFile(join(fixtures, 'stock-gluon/network-static')));
});

function sectionsOfFile(path: string): Sections {
  const root = makeRoot(t, { 'etc/config/network': path });
  return sections(root, 'network');
}

t.test("B: site-seeded WAN DNS servers stay the node's; uninstall drops the ones with a port Gluon cannot use", async (t) => {
  const node = stockGluon(t);
  firmwareFile(node, 'lib/gluon/site.ini', '[wan_dns]\nserver[] = 192.0.2.53\nserver[] = [2001:db8::53]:5353\n');
  meshwanFirmware(node);
  reconfigure(t, node);
  t.same(
    uciOf(node).get('gluon-wan-dnsmasq', '@static[0]', 'server'),
    ['192.0.2.53', '[2001:db8::53]:5353'],
    'seeded into the shared list',
  );
  const run = uninstall(node);
  t.equal(run.stderr, '');
  t.equal(run.status, 0);
  t.equal(
    run.stdout,
    "meshwan uninstall: removed WAN DNS server [2001:db8::53]:5353 from gluon-wan-dnsmasq (Gluon's dnsmasq takes no port)\n",
  );
  const servers = uciOf(node).get('gluon-wan-dnsmasq', '@static[0]', 'server');
  t.same(servers, ['192.0.2.53'], "the port-53 server stays: to Gluon's update.lua it is the user's static server");
  // Gluon's update.lua writes `nameserver <server>` for each; dnsmasq takes an address there (with %scope for fe80::).
  for (const server of Array.isArray(servers) ? servers : []) t.not(isIP(server.replace(/%.*$/, '')), 0, `${server} is an address`);
  t.equal(uninstall(node).stdout, '', 'a second run removes nothing');
});
