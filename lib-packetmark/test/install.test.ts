// tier: root: SO_MARK (the staged library must set the mark, which takes CAP_NET_ADMIN)
// `make install DESTDIR=D` stages exactly D/usr/lib/libpacketmark.so (what mk/stage.mjs relies on) and refuses
// an empty DESTDIR, which would install into the build machine's /usr/lib.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { childEnv, libDir, markprobe, parseProbes, runWith } from './lib/probe.js';

t.test('make install stages only the library, and it works from there', async (t) => {
  const dest = mkdtempSync(join(tmpdir(), 'pm-install-'));
  t.teardown(() => rmSync(dest, { recursive: true, force: true }));
  const r = spawnSync('make', ['-s', '-C', libDir, 'install', `DESTDIR=${dest}`], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const files = readdirSync(dest, { recursive: true, encoding: 'utf8' }).sort();
  t.same(files, ['usr', 'usr/lib', 'usr/lib/libpacketmark.so']);
  const staged = join(dest, 'usr/lib/libpacketmark.so');
  t.equal(statSync(staged).mode & 0o777, 0o755);
  const env = { ...childEnv({ LIBPACKETMARK_MARK: '0x1' }, false), LD_PRELOAD: staged };
  t.same(
    parseProbes(runWith(env, markprobe, ['inet6:udp']).stdout).map((p) => p.mark),
    [1],
  );
});

t.test('make install without DESTDIR refuses and writes nothing', async (t) => {
  const r = spawnSync('make', ['-s', '-C', libDir, 'install', 'DESTDIR='], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.match(r.stderr, /refusing without DESTDIR/);
});
