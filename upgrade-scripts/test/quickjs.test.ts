/**
 * The upgrade scripts as the router runs them at flash time: each /lib/gluon/upgrade entry bundled for QuickJS
 * by mk/bundle.mjs and run, one process per script as meshwan-reconfigure does, on meshwan-js here and on
 * big-endian MIPS under qemu-user. Each must leave the same bytes and modes under the root (/etc/config, the
 * accounts files, the save dir) as the Node bundle does on the same starting tree.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { bundleEntry, type Runtime, runBundle, scratch } from '../../packages/os/test/lib/seam.js';
import { fixtures, makeRoot, snapshot } from './lib.js';

const runtimes: Runtime[] = ['node', 'host', 'mips_24kc'];
const distUpgrade = new URL('../dist/upgrade', import.meta.url).pathname;
const scripts = readdirSync(distUpgrade)
  .filter((f) => /^\d{3}-[a-z0-9-]+\.js$/.test(f))
  .map((f) => f.slice(0, -3));

// Five processes per runtime and tree, some under qemu: generous for a loaded 2-core machine.
t.setTimeout(600_000);

const gluonNode = {
  'etc/config/network': join(fixtures, 'gluon/network-old-style'),
  'etc/config/network_gluon-old': join(fixtures, 'gluon/network_gluon-old'),
  'etc/config/firewall': join(fixtures, 'gluon/firewall'),
  'etc/config/gluon-wan-dnsmasq': join(fixtures, 'gluon/gluon-wan-dnsmasq'),
  'etc/group': join(fixtures, 'gluon/group'),
  'etc/passwd': join(fixtures, 'gluon/passwd'),
  'etc/shadow': join(fixtures, 'gluon/shadow'),
};

/** Every file under the root with its mode, as text. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, state] of snapshot(root)) out[path] = `${(statSync(join(root, path)).mode & 0o7777).toString(8)} ${state.text}`;
  return out;
}

const trees: Record<string, { files: Record<string, string>; site?: string }> = {
  'a Gluon node (old-style network, firewall, accounts)': { files: gluonNode },
  'a bare root with a community site file': {
    files: {},
    site: '[wan]\nmark = 0x10\nmask = 0x10\ntable = 3\n[mesh_vpn]\ngid = 801\n',
  },
};

t.test('bundles', async (t) => {
  const dir = scratch(t);
  const bundles = new Map<Runtime, string[]>();
  for (const runtime of runtimes) {
    bundles.set(runtime, await Promise.all(scripts.map((s) => bundleEntry(join(distUpgrade, `${s}.js`), runtime, dir))));
  }
  for (const [what, spec] of Object.entries(trees)) {
    await t.test(`${what}: the same files on Node, meshwan-js and MIPS`, async (t) => {
      const results = new Map<Runtime, Record<string, string>>();
      for (const runtime of runtimes) {
        const root = makeRoot(t, spec.files);
        if (spec.site !== undefined) {
          mkdirSync(join(root, 'lib/gluon'), { recursive: true });
          writeFileSync(join(root, 'lib/gluon/site.ini'), spec.site);
        }
        for (const [i, bundle] of (bundles.get(runtime) ?? []).entries()) {
          const ran = await runBundle(bundle, runtime, [], { MESHWAN_ROOT: root });
          t.equal(ran.status, 0, `${runtime}: ${scripts[i]} (${ran.stderr})`);
          t.equal(ran.stderr, '', `${runtime}: ${scripts[i]} stderr`);
        }
        const files = tree(root);
        delete files['lib/gluon/site.ini'];
        results.set(runtime, files);
      }
      const node = results.get('node') ?? {};
      t.match(node['etc/config/network'], /config rule6 'wan6_lookup'/, 'the scripts did their work');
      t.match(node['etc/group'], /gluon-mesh-vpn:x:80[01]:$/m);
      for (const runtime of runtimes) t.same(results.get(runtime), node, `${runtime}: every file, byte and mode as on Node`);
    });
  }
});
