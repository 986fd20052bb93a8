// The scripts as a node runs them: meshwan-reconfigure --root on a staged tree, each script its own process, as
// staged: a two-line sh that runs meshwan-js on the script's bytecode (mk/stage.mjs).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fixtures, makeRoot, read, snapshot, upgrade } from './lib.js';
import { scripts, stageScripts } from './staged.js';

// Each script is a process (about 30 of them here, on meshwan-js): generous for a loaded 2-core machine.
t.setTimeout(240_000);

function etc(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, state] of snapshot(root)) if (path.startsWith('etc/')) out.set(path, state.text);
  return out;
}

const { install: wrappers, reconfigure } = await stageScripts(t);

const gluonNode = {
  'etc/config/network': join(fixtures, 'gluon/network-old-style'),
  'etc/config/network_gluon-old': join(fixtures, 'gluon/network_gluon-old'),
  'etc/config/firewall': join(fixtures, 'gluon/firewall'),
  'etc/group': join(fixtures, 'gluon/group'),
  'etc/passwd': join(fixtures, 'gluon/passwd'),
};

t.test('the five scripts exist, in Gluon ranges', async (t) => {
  t.same(scripts, ['105-meshwan-settings', '111-meshwan-network', '160-meshwan-wan-dns', '410-meshwan-mesh-vpn', '990-meshwan-commit']);
});

t.test('the same end state as the steps in-process, and a second run changes nothing', async (t) => {
  const viaRunner = makeRoot(t, gluonNode);
  const inProcess = makeRoot(t, gluonNode);
  wrappers(viaRunner);
  const run = reconfigure(viaRunner);
  t.equal(run.stderr, '');
  t.equal(run.status, 0);
  t.equal(run.stdout, scripts.map((s) => `Configuring: ${s}\n`).join(''));
  upgrade(inProcess);
  t.same(etc(viaRunner), etc(inProcess));
  const first = snapshot(viaRunner);
  t.equal(reconfigure(viaRunner).status, 0);
  t.same(snapshot(viaRunner), first);
});

t.test('a broken config fails its script only; the runner names it and exits 1', async (t) => {
  const root = makeRoot(t);
  wrappers(root);
  mkdirSync(join(root, 'etc/config'), { recursive: true });
  writeFileSync(join(root, 'etc/config/network'), "config interface 'wan'\n\toption proto 'dhcp\n");
  const run = reconfigure(root);
  t.equal(run.status, 1);
  t.match(run.stderr, /^111-meshwan-network: .*Parse error/m);
  t.match(run.stderr, /1 of 5 upgrade scripts failed: 111-meshwan-network \(exit 1\)/);
  t.match(read(root, 'etc/group'), /^gluon-mesh-vpn:x:800:$/m, 'the other scripts still ran');
  t.match(read(root, 'etc/config/firewall'), /meshwan_dns/);
});

t.test('a bad site file fails every script that reads it, naming file:line', async (t) => {
  const root = makeRoot(t);
  wrappers(root);
  writeFileSync(join(root, 'lib/gluon/site.ini'), '[wan]\nmark = one\n');
  const run = reconfigure(root);
  t.equal(run.status, 1);
  t.match(run.stderr, /111-meshwan-network: .*site\.ini:2: wan\.mark: expected a number like 0x1, got "one"/);
  t.match(run.stderr, /5 of 5 upgrade scripts failed/);
});

t.test('with a community site file under the root: its mark, table and gid', async (t) => {
  const root = makeRoot(t, gluonNode);
  wrappers(root);
  writeFileSync(join(root, 'lib/gluon/site.ini'), '[wan]\nmark = 0x10\nmask = 0x10\ntable = 3\n[mesh_vpn]\ngid = 801\n');
  const run = reconfigure(root);
  t.equal(run.stderr, '');
  t.equal(run.status, 0);
  t.match(read(root, 'etc/config/network'), /config rule6 'wan6_lookup'\n\toption mark '0x10\/0x10'\n\toption lookup '3'\n/);
  t.match(read(root, 'etc/group'), /^gluon-mesh-vpn:x:801:$/m);
  const first = snapshot(root);
  t.equal(reconfigure(root).status, 0);
  t.same(snapshot(root), first);
});
