// tier: root: network namespaces, SO_MARK or firewall rules
/** The host builds (glibc, and musl as OpenWrt's libc): the same probe, plus meshwan-js's start-up failures. */
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { conformance } from './lib/checks.js';
import { compileProbe, engine, runAsync, tempDir } from './lib/probe.js';

t.test('host (glibc)', (t) => conformance(t, 'host'));
t.test('host (musl, static)', (t) => conformance(t, 'host-musl'));

t.test('a file that fails to load, bad bytecode or a bad invocation exits non-zero at once, with the reason', async (t) => {
  const bin = engine('host');
  const dir = tempDir(t);
  const missing = await runAsync([bin, join(dir, 'absent.js')]);
  t.equal(missing.status, 1);
  t.match(missing.stderr, /cannot load .*absent\.js: No such file/);
  writeFileSync(join(dir, 'garbage.qbc'), 'not bytecode');
  const garbage = await runAsync([bin, join(dir, 'garbage.qbc')]);
  t.equal(garbage.status, 1);
  t.match(garbage.stderr, /garbage\.qbc is not bytecode of this engine/);
  writeFileSync(join(dir, 'throws.js'), "import { nothing } from 'meshwan:netio';\n");
  const unresolved = await runAsync([bin, join(dir, 'throws.js')]);
  t.equal(unresolved.status, 1);
  t.match(unresolved.stderr, /nothing/);
  writeFileSync(join(dir, 'rejects.js'), "await Promise.reject(new Error('boom at start'));\n");
  const rejects = await runAsync([bin, join(dir, 'rejects.js')]);
  t.equal(rejects.status, 1);
  t.match(rejects.stderr, /boom at start/);
  const usage = await runAsync([bin]);
  t.equal(usage.status, 2);
  t.match(usage.stderr, /usage: meshwan-js/);
});

t.test('called by another name, meshwan-js runs that command bytecode from MESHWAN_JS_LIB (multi-call)', async (t) => {
  const dir = tempDir(t);
  const bytecode = await compileProbe(t);
  symlinkSync(engine('host'), join(dir, 'probe'));
  symlinkSync(bytecode, join(dir, 'probe.qbc'));
  const r = await runAsync([join(dir, 'probe')], { ...process.env, MESHWAN_JS_LIB: dir });
  t.equal(r.status, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { batch: { received: 20 } });
  const absent = await runAsync([join(dir, 'probe')], { ...process.env, MESHWAN_JS_LIB: join(dir, 'nowhere') });
  t.equal(absent.status, 1);
  t.match(absent.stderr, /cannot load .*nowhere\/probe\.qbc/);
});
