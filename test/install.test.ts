// make install's staging: a firmware tree from the site file, QuickJS packages as bytecode and symlinks to
// meshwan-js, Node packages as bundles and wrappers (host only), and refusals for a bad site file, no DESTDIR,
// and a cross target with a package still on Node.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';

const root = new URL('..', import.meta.url).pathname;
const make = (...args: string[]) => spawnSync('make', ['-s', '--no-print-directory', '-C', root, ...args], { encoding: 'utf8' });

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshwan-stage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('stages QuickJS commands as bytecode, Node commands as wrappers, the site file and the overlay', async (t) => {
  const dir = scratch(t);
  const dest = join(dir, 'root');
  const site = join(dir, 'site.ini');
  writeFileSync(site, '[wan]\ntable = 7\n');
  const result = make('install', `DESTDIR=${dest}`, `SITE=${site}`, `PAYLOAD=${join(dir, 'payload')}`);
  t.equal(result.status, 0, result.stderr);
  t.equal(readFileSync(join(dest, 'lib/gluon/site.ini'), 'utf8'), '[wan]\ntable = 7\n');
  t.notOk(existsSync(join(dest, 'node_modules')), 'no node_modules on the device');
  t.notOk(existsSync(join(dest, 'README.md')), 'files/README.md is not firmware');
  // netlink runs on QuickJS: bytecode and a symlink, no bundle, no wrapper.
  t.equal(readlinkSync(join(dest, 'usr/bin/meshwan-netlink')), 'meshwan-js');
  t.ok(statSync(join(dest, 'usr/lib/meshwan/meshwan-netlink.qbc')).size > 1000, 'bytecode');
  t.notOk(existsSync(join(dest, 'usr/lib/meshwan/meshwan-netlink.mjs')), 'no Node bundle for a QuickJS command');
  const help = spawnSync(join(dest, 'usr/bin/meshwan-netlink'), ['--help'], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', MESHWAN_JS_LIB: join(dest, 'usr/lib/meshwan') },
  });
  t.match(`${help.stdout}${help.stderr}`, /meshwan-netlink/, 'the symlink runs its bytecode on meshwan-js');
  // uplinks too: its daemon and CLI are the engine and bytecode; a bad argument is a clear error and exit 2.
  t.equal(readlinkSync(join(dest, 'usr/bin/meshwan-uplinks')), 'meshwan-js');
  t.notOk(existsSync(join(dest, 'usr/lib/meshwan/meshwan-uplinks.mjs')), 'no Node bundle for meshwan-uplinks');
  const usage = spawnSync(join(dest, 'usr/bin/meshwan-uplinks'), ['frobnicate'], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', MESHWAN_JS_LIB: join(dest, 'usr/lib/meshwan') },
  });
  t.equal(usage.status, 2, 'meshwan-uplinks: bad usage exits 2');
  t.match(usage.stderr, /meshwan-uplinks: unknown command frobnicate\nusage: meshwan-uplinks daemon/);
  // On a router /sbin/uci is OpenWrt's: ours is a library there, its CLI bytecode for hosts without OpenWrt.
  t.ok(existsSync(join(dest, 'usr/lib/meshwan/uci.qbc')), "uci's bytecode, for hosts without OpenWrt");
  for (const d of ['usr/bin', 'usr/sbin', 'bin', 'sbin']) t.notOk(existsSync(join(dest, d, 'uci')), `no ${d}/uci`);
  // Upgrade scripts: a two-line sh that runs its bytecode under $MESHWAN_ROOT.
  const script = readFileSync(join(dest, 'lib/gluon/upgrade/105-meshwan-settings'), 'utf8');
  t.equal(script, '#!/bin/sh\nexec "$MESHWAN_ROOT/usr/bin/meshwan-js" "$MESHWAN_ROOT/usr/lib/meshwan/105-meshwan-settings.qbc" "$@"\n');
  // site.ini's validation is a firmware build host's tool (Node, meshwan.hostOnlyCommands): its bundle on the host
  // target, no PATH entry.
  t.notOk(existsSync(join(dest, 'usr/bin/meshwan-site')), 'no wrapper for a host-only command');
  const shown = spawnSync(process.execPath, [join(dest, 'usr/lib/meshwan/meshwan-site.mjs'), 'show', join(dest, 'lib/gluon/site.ini')], {
    encoding: 'utf8',
    cwd: dest,
  });
  t.match(shown.stdout, /wan.table=7/);
  // No .node addon unless a staged command runs on Node, and no symlink dangles.
  const lib = readdirSync(join(dest, 'usr/lib/meshwan'));
  const nodeCommands = lib.filter((f) => f.endsWith('.mjs'));
  t.equal(lib.includes('netio.node'), nodeCommands.length > 0, 'netio.node only beside Node bundles');
  for (const d of ['usr/bin', 'usr/sbin']) {
    for (const f of existsSync(join(dest, d)) ? readdirSync(join(dest, d)) : []) {
      if (lstatSync(join(dest, d, f)).isSymbolicLink()) t.ok(existsSync(join(dest, d, f)), `${d}/${f} resolves`);
    }
  }
});

t.test('refuses a bad site file with file:line: key and a non-zero exit', async (t) => {
  const dir = scratch(t);
  const site = join(dir, 'bad-site.ini');
  writeFileSync(site, '[wan]\nmark = 0x1\nmsak = 0x1\n');
  const result = make('install', `DESTDIR=${join(dir, 'root')}`, `SITE=${site}`, `PAYLOAD=${join(dir, 'payload')}`);
  t.not(result.status, 0);
  t.match(result.stderr, `${site}:3: wan.msak: unknown key`);
  t.notOk(existsSync(join(dir, 'root/lib/gluon/site.ini')), 'nothing staged');
});

t.test('make install refuses without DESTDIR', async (t) => {
  const result = make('install', 'DESTDIR=');
  t.equal(result.status, 2);
  t.match(result.stderr, /refusing without DESTDIR/);
});

t.test('a cross target refuses every package still on Node, naming each, and writes nothing', async (t) => {
  // Every router package is on QuickJS now, so a payload whose MANIFEST says packages/wan-dns and
  // packages/uplinks were staged for Node (what mk/stage.mjs writes for a package without "runtime": "quickjs")
  // stands in for one that went back. mk/install.sh must refuse it before copying anything.
  const dir = scratch(t);
  const payload = join(dir, 'payload');
  mkdirSync(payload);
  const onNode = ['packages/wan-dns', 'packages/uplinks'];
  const lines = readFileSync(join(root, 'build/dev/MANIFEST'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split('\t'))
    .map(([owner = '', when = '', source = '', ...rest]) => [owner, onNode.includes(source) ? 'node' : when, source, ...rest].join('\t'));
  writeFileSync(join(payload, 'MANIFEST'), `${lines.join('\n')}\n`);
  const install = (target: string) =>
    spawnSync('sh', [join(root, 'mk/install.sh')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PAYLOAD: payload,
        DESTDIR: join(dir, `root-${target}`),
        TARGET: target,
        ENGINE: '/nonexistent',
        PACKETMARK: '/nonexistent',
      },
    });
  const cross = install('mipsel_24kc');
  t.equal(cross.status, 1, 'refused');
  t.match(cross.stderr, /TARGET=mipsel_24kc: still on Node/);
  for (const d of onNode) t.match(cross.stderr, d, `names ${d}`);
  t.notOk(existsSync(join(dir, 'root-mipsel_24kc')), 'nothing written');
  // The host takes Node commands: past the check, it stops only at the files this payload does not have.
  t.notMatch(install('host').stderr, /still on Node/, 'the host is not refused');
});
