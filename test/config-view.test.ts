// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * One config view for every package: a change staged (not committed) in ROOT/tmp/.uci is seen the same way by
 * policy, wan-dns and uplinks, and with a root given nothing reads the host's /tmp/.uci. The readers run in a
 * private mount namespace whose /tmp is a fresh tmpfs holding a poisoned /tmp/.uci (deltas that would change
 * every value): a reader that looked there would report the poison, and the poison files must stay as they were.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openConfig } from '@meshwan/uci';
import t from 'tap';

const repo = new URL('..', import.meta.url).pathname;

const files: Record<string, string> = {
  network:
    "config interface 'wan6'\n\toption device 'br-wan'\n\toption ip6table '1'\n\n" +
    "config rule6 'wan6_lookup'\n\toption mark '0x01/0x01'\n\toption lookup '1'\n",
  meshwan: "config mesh_vpn 'mesh_vpn'\n\toption group 'gluon-mesh-vpn'\n\toption gid '800'\n",
  'gluon-wan-dnsmasq': "config static 'static'\n\tlist server '192.0.2.53'\n",
  'meshwan-uplinks': "config interface 'wan6'\n\toption device 'br-wan'\n\toption family 'ipv6'\n\toption enabled '0'\n",
};

// Runs in the namespace: what each package reads from the root, as JSON (the built dist/ code, as on a node).
const reader = join(repo, 'test/lib/config-view-reader.mjs');

// The poison: deltas for every package, in the host's save dir as the namespace sees it.
const poison = "network.wan6_lookup.mark='0x04/0x04'\\nnetwork.wan6_lookup.lookup='9'\\n";
const script = (root: string) =>
  [
    'set -e',
    'mount -t tmpfs tmpfs /tmp',
    'mkdir -m 700 /tmp/.uci',
    `printf "${poison}" > /tmp/.uci/network`,
    `printf "meshwan.mesh_vpn.gid='999'\\n" > /tmp/.uci/meshwan`,
    `printf "gluon-wan-dnsmasq.static.server='203.0.113.99'\\n" > /tmp/.uci/gluon-wan-dnsmasq`,
    `printf "meshwan-uplinks.wan6.enabled='0'\\n" > /tmp/.uci/meshwan-uplinks`,
    'before=$(cd /tmp/.uci && md5sum * | md5sum)',
    `${JSON.stringify(process.execPath)} ${JSON.stringify(reader)} ${JSON.stringify(root)}`,
    'after=$(cd /tmp/.uci && md5sum * | md5sum)',
    '[ "$before" = "$after" ] && [ "$(ls -A /tmp/.uci | wc -l)" = 4 ] || { echo "host /tmp/.uci changed" >&2; exit 3; }',
  ].join('\n');

t.test('a staged change is seen by policy, wan-dns and uplinks alike; the host save dir is never read', async (t) => {
  mkdirSync(join(repo, 'out'), { recursive: true });
  // Not under /tmp: the namespace mounts a tmpfs there.
  const root = mkdtempSync(join(repo, 'out', 'config-view-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc/config'), { recursive: true });
  mkdirSync(join(root, 'tmp/.uci'), { recursive: true, mode: 0o700 });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, 'etc/config', name), text);

  const read = () => {
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script(root)], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    t.equal(r.status, 0, `reader ran: ${r.stderr}`);
    return JSON.parse(r.stdout) as {
      policy: { mark: number; mask: number; table: number; gid: number; uplinks: string[] };
      wanDns: { mark: number; gid: number; servers: string[] };
      uplinks: { table: number; enabled: string[] };
    };
  };

  const committed = read();
  t.same(committed.policy, { mark: 1, mask: 1, table: 1, gid: 800, uplinks: [] }, 'policy: the committed config');
  t.same(committed.wanDns, { mark: 1, gid: 800, servers: ['192.0.2.53'] }, 'wan-dns: the committed config');
  t.same(committed.uplinks, { table: 1, enabled: [] }, 'uplinks: the committed config');

  // Staged as `uci set` would, under the root: not committed.
  const uci = openConfig({ root });
  uci.set('network', 'wan6_lookup', 'mark', '0x10/0x10');
  uci.set('network', 'wan6_lookup', 'lookup', '7');
  uci.set('meshwan', 'mesh_vpn', 'gid', '900');
  uci.set('gluon-wan-dnsmasq', 'static', 'server', '198.51.100.7');
  uci.set('meshwan-uplinks', 'wan6', 'enabled', '1');

  const staged = read();
  t.same(staged.policy, { mark: 0x10, mask: 0x10, table: 7, gid: 900, uplinks: ['wan6'] }, 'policy sees the staged changes');
  t.same(staged.wanDns, { mark: 0x10, gid: 900, servers: ['198.51.100.7'] }, 'wan-dns sees them');
  t.same(staged.uplinks, { table: 7, enabled: ['wan6'] }, 'uplinks sees them');
});
