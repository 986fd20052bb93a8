// make install's staging: a firmware tree from the site file, and a refusal for a bad site file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const root = new URL('..', import.meta.url).pathname;
const stage = (...args: string[]) => spawnSync(process.execPath, [join(root, 'mk/stage.mjs'), ...args], { encoding: 'utf8' });

t.test('stages bundled commands, wrappers, the site file and the overlay', async (t) => {
  const dest = mkdtempSync(join(tmpdir(), 'meshwan-stage-'));
  const site = join(dest, '..', `${Date.now()}-site.ini`);
  writeFileSync(site, '[wan]\ntable = 7\n');
  const result = stage('--destdir', dest, '--site', site);
  t.equal(result.status, 0, result.stderr);
  t.equal(readFileSync(join(dest, 'lib/gluon/site.ini'), 'utf8'), '[wan]\ntable = 7\n');
  t.ok(existsSync(join(dest, 'usr/lib/meshwan/meshwan-site.mjs')), 'bundle');
  const wrapper = join(dest, 'usr/bin/meshwan-site');
  t.equal(readFileSync(wrapper, 'utf8'), '#!/bin/sh\nexec node /usr/lib/meshwan/meshwan-site.mjs "$@"\n');
  t.equal(statSync(wrapper).mode & 0o111, 0o111, 'wrapper is executable');
  t.notOk(existsSync(join(dest, 'node_modules')), 'no node_modules on the device');
  // On a router /sbin/uci is OpenWrt's: ours is a library there, its CLI a bundle for hosts without OpenWrt.
  t.ok(existsSync(join(dest, 'usr/lib/meshwan/uci.mjs')), "uci's bundle, for hosts without OpenWrt");
  for (const dir of ['usr/bin', 'usr/sbin', 'bin', 'sbin']) t.notOk(existsSync(join(dest, dir, 'uci')), `no ${dir}/uci`);
  // The bundle runs on its own, without the workspace's node_modules.
  const shown = spawnSync(process.execPath, [join(dest, 'usr/lib/meshwan/meshwan-site.mjs'), 'show', join(dest, 'lib/gluon/site.ini')], {
    encoding: 'utf8',
    cwd: dest,
  });
  t.match(shown.stdout, /wan.table=7/);
});

t.test('refuses a bad site file with file:line: key and a non-zero exit', async (t) => {
  const dest = mkdtempSync(join(tmpdir(), 'meshwan-stage-'));
  const site = join(dest, '..', `${Date.now()}-bad-site.ini`);
  writeFileSync(site, '[wan]\nmark = 0x1\nmsak = 0x1\n');
  const result = stage('--destdir', dest, '--site', site);
  t.equal(result.status, 1);
  t.match(result.stderr, `${site}:3: wan.msak: unknown key`);
  t.notOk(existsSync(join(dest, 'lib/gluon/site.ini')), 'nothing staged');
});

t.test('make install refuses without DESTDIR', async (t) => {
  const result = spawnSync('make', ['-s', '-C', root, 'install', 'DESTDIR='], { encoding: 'utf8' });
  t.equal(result.status, 2);
  t.match(result.stderr, /refusing without DESTDIR/);
});
