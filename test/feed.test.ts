// The OpenWrt feed and the release tarball: every feed/NAME/Makefile parses as an OpenWrt package (stub rules.mk and
// package.mk recording its BuildPackage call), every staged file belongs to exactly one package, the packages'
// installs together equal the whole install, and the tarball installs with Node out of reach, for the host and for
// big-endian MIPS (Debian's mips-linux-gnu-gcc), whose bytecode then runs under qemu-user.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';

const root = new URL('..', import.meta.url).pathname;
t.setTimeout(1_200_000); // QuickJS compiled twice (host, mips) in a clean tree on a busy 2-core machine

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshwan-feed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** feed/owners' packages. */
const owned = new Set(
  readFileSync(join(root, 'feed/owners'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/)[1] ?? ''),
);
const feedPackages = readdirSync(join(root, 'feed')).filter((d) => existsSync(join(root, 'feed', d, 'Makefile')));

/** Every path under dir (files and symlinks) with its content's hash or link target. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = `${rel}/${name}`;
      const st = lstatSync(join(dir, path));
      if (st.isDirectory()) walk(path);
      else
        out.set(
          path,
          st.isSymbolicLink()
            ? `-> ${readlinkSync(join(dir, path))}`
            : `${(st.mode & 0o777).toString(8)} ${createHash('sha256')
                .update(readFileSync(join(dir, path)))
                .digest('hex')}`,
        );
    }
  };
  if (existsSync(dir)) walk('');
  return out;
}

t.test('each feed Makefile is an OpenWrt package that installs itself through make install PACKAGE=', async (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'rules.mk'), '');
  // package.mk's BuildPackage, recording what OpenWrt's would read.
  writeFileSync(
    join(dir, 'package.mk'),
    [
      'stub-parsed: ;',
      'define BuildPackage',
      '$$(eval $$(Package/$(1)))',
      '$$(info NAME=$(1))',
      '$$(info LICENSE=$(PKG_LICENSE))',
      '$$(info MAINTAINER=$(PKG_MAINTAINER))',
      '$$(info DEPENDS=$$(strip $$(DEPENDS)))',
      '$$(info PROVIDES=$$(strip $$(PROVIDES)))',
      '$$(info CONFLICTS=$$(strip $$(CONFLICTS)))',
      '$$(info CONFFILES=$$(strip $$(Package/$(1)/conffiles)))',
      '$$(info INSTALL=$$(strip $$(call Package/$(1)/install,/ipkg-root)))',
      'endef',
      'define Package/Defaults',
      'endef',
      '',
    ].join('\n'),
  );
  t.same(new Set(feedPackages), owned, 'one feed package per package in feed/owners');
  for (const name of feedPackages) {
    const r = spawnSync(
      'make',
      [
        '-n',
        '-s',
        '-C',
        join(root, 'feed', name),
        `TOPDIR=${dir}`,
        `INCLUDE_DIR=${dir}`,
        `BUILD_DIR=${dir}/build`,
        `--eval=$(eval $(Package/${name}))`,
      ],
      { encoding: 'utf8' },
    );
    t.equal(r.status, 0, `${name}: ${r.stderr}`);
    const field = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(r.stdout)?.[1] ?? '';
    t.equal(field('NAME'), name, `${name}: BuildPackage,${name}`);
    t.ok(field('LICENSE') && field('MAINTAINER'), `${name}: PKG_LICENSE and PKG_MAINTAINER`);
    t.match(field('INSTALL'), `install DESTDIR=/ipkg-root PACKAGE=${name}`, `${name}: installs through make install PACKAGE=${name}`);
    t.notMatch(field('DEPENDS'), /\bquickjs\b/, `${name}: no dependency on the feed's quickjs (meshwan-js links it statically)`);
    if (name === 'meshwan-wan-dns') {
      t.equal(field('PROVIDES'), 'gluon-wan-dnsmasq');
      t.equal(field('CONFLICTS'), 'gluon-wan-dnsmasq');
      t.equal(field('CONFFILES'), '/etc/config/gluon-wan-dnsmasq');
    }
    if (name === 'meshwan-packetmark') t.equal(field('PROVIDES'), 'libpacketmark');
    if (name === 'meshwan-uplinks') t.equal(field('CONFFILES'), '/etc/config/meshwan-uplinks');
  }
});

t.test('make dist: the tarball installs without Node, whole or one package at a time, host and mips_24kc', async (t) => {
  const dir = scratch(t);
  const dist = spawnSync('make', ['-s', '--no-print-directory', '-C', root, 'dist'], { encoding: 'utf8' });
  t.equal(dist.status, 0, dist.stderr);
  const tarball = /dist: (\S+\.tar\.xz)/.exec(dist.stdout)?.[1] ?? '';
  const untar = spawnSync('tar', ['-C', dir, '-xJf', tarball], { encoding: 'utf8' });
  t.equal(untar.status, 0, untar.stderr);
  const [src = ''] = readdirSync(dir).filter((d) => d.startsWith('meshwan-'));
  const tree0 = join(dir, src);
  // Node out of reach: a `node` first on PATH that leaves a mark and fails.
  const stub = join(dir, 'no-node');
  mkdirSync(stub);
  writeFileSync(join(stub, 'node'), `#!/bin/sh\necho "$@" >> ${join(dir, 'node-called')}\nexit 127\n`, { mode: 0o755 });
  // The engine's library comes from the repository's QuickJS build cache when it holds this source's (the same
  // bytes, compiler and flags: packages/os/Makefile keys it by content), so the tarball's build compiles our C and
  // links; compiling QuickJS itself twice more here would cost minutes and prove nothing new.
  const quickjsSource = spawnSync('sh', [join(root, 'mk/quickjs.sh')], { encoding: 'utf8' }).stdout.trim();
  const env = { PATH: `${stub}:/usr/bin:/bin`, HOME: dir, ...(quickjsSource ? { QJS_CACHE: join(quickjsSource, '..', 'build') } : {}) };
  const install = (dest: string, ...args: string[]) =>
    spawnSync('make', ['-s', '--no-print-directory', '-C', tree0, 'install', `DESTDIR=${dest}`, ...args], { encoding: 'utf8', env });
  const manifest = readFileSync(join(tree0, 'payload/MANIFEST'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  const onNode = (pkg: string) => manifest.some(([owner, when]) => owner === pkg && when === 'node');

  for (const target of ['host', 'mips_24kc']) {
    await t.test(target, async (t) => {
      const whole = join(dir, `${target}-whole`);
      const all = install(whole, `TARGET=${target}`);
      const anyNode = feedPackages.some(onNode);
      if (target === 'host' || !anyNode) t.equal(all.status, 0, all.stderr);
      else t.match(all.stderr, /still on Node/, 'the whole tree is refused while a package is on Node');
      const union = new Map<string, string>();
      for (const pkg of feedPackages) {
        const dest = join(dir, `${target}-${pkg}`);
        const r = install(dest, `TARGET=${target}`, `PACKAGE=${pkg}`);
        if (target !== 'host' && onNode(pkg)) {
          t.not(r.status, 0, `${pkg}: refused on ${target}`);
          t.match(r.stderr, /still on Node.*: .*packages\//, `${pkg}: the error names the workspace package`);
          t.notOk(existsSync(dest), `${pkg}: nothing written`);
          continue;
        }
        t.equal(r.status, 0, `${pkg}: ${r.stderr}`);
        for (const [path, state] of tree(dest)) {
          t.notOk(union.has(path), `${path}: in exactly one package (${pkg})`);
          union.set(path, state);
        }
      }
      if (all.status === 0) t.same([...union].sort(), [...tree(whole)].sort(), 'the packages together are the whole install');
      if (target === 'mips_24kc') {
        const js = join(dir, 'mips_24kc-meshwan-js/usr/bin/meshwan-js');
        const file = spawnSync('file', ['-b', js], { encoding: 'utf8' });
        t.match(file.stdout, /MSB.*MIPS.*stripped/, 'a stripped big-endian MIPS engine');
        const meshwan = join(dir, 'mips_24kc-meshwan');
        // meshwan itself is on QuickJS, every command of it (meshwan-wan and meshwan-reconfigure were its last on Node).
        t.notOk(onNode('meshwan'), 'the meshwan package has nothing on Node');
        for (const [command, dirName] of [
          ['meshwan-wan', 'usr/bin'],
          ['meshwan-reconfigure', 'usr/sbin'],
        ] as const) {
          t.ok(existsSync(join(meshwan, 'usr/lib/meshwan', `${command}.qbc`)), `${command}: bytecode`);
          t.match(readlinkSync(join(meshwan, dirName, command)), /meshwan-js$/, `${command}: a link to meshwan-js`);
          const r = spawnSync('qemu-mips-static', ['-L', '/usr/mips-linux-gnu', '-0', command, js, '--help'], {
            encoding: 'utf8',
            env: { ...env, MESHWAN_JS_LIB: join(meshwan, 'usr/lib/meshwan') },
          });
          t.equal(r.status, 0, `${command} --help on big-endian MIPS (${r.stderr})`);
          t.match(`${r.stdout}${r.stderr}`, `usage: ${command}`);
        }
        if (existsSync(join(meshwan, 'usr/bin/meshwan-netlink'))) {
          // the one bytecode (compiled on the host) on the big-endian engine: meshwan-netlink's route dump under qemu-user
          const r = spawnSync('qemu-mips-static', ['-L', '/usr/mips-linux-gnu', '-0', 'meshwan-netlink', js, 'routes'], {
            encoding: 'utf8',
            env: { ...env, MESHWAN_JS_LIB: join(meshwan, 'usr/lib/meshwan') },
          });
          t.equal(r.status, 0, r.stderr);
          t.match(r.stdout, /dev lo|dev \w+/, 'routes listed');
        }
        // meshwan-uplinks, once on Node and refused here: its package installs, and its bytecode runs on the engine.
        const uplinks = join(dir, 'mips_24kc-meshwan-uplinks');
        t.equal(readlinkSync(join(uplinks, 'usr/bin/meshwan-uplinks')), 'meshwan-js', 'meshwan-uplinks: a symlink to the engine');
        const status = spawnSync(
          'qemu-mips-static',
          ['-L', '/usr/mips-linux-gnu', '-0', 'meshwan-uplinks', js, 'status', '--status-file', join(dir, 'none.json')],
          { encoding: 'utf8', env: { ...env, MESHWAN_JS_LIB: join(uplinks, 'usr/lib/meshwan') } },
        );
        t.equal(status.status, 1, `meshwan-uplinks status without a daemon: exit 1 (${status.stderr})`);
        t.match(status.stderr, /meshwan-uplinks: no status at .*none\.json: is the daemon running\?/);
      }
    });
  }
  t.notOk(existsSync(join(dir, 'node-called')), 'nothing called node');
});
