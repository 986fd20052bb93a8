import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const bin = new URL('../bin/meshwan-site.js', import.meta.url).pathname;
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, MESHWAN_SITE: '/nonexistent/site.ini' } });

t.test('check accepts a good file and refuses a bad one with file:line:key and exit 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshwan-site-'));
  const good = join(dir, 'good.ini');
  const bad = join(dir, 'bad.ini');
  writeFileSync(good, '[wan]\ntable = 2\n');
  writeFileSync(bad, '[wan]\ntable = 2\nmark = banana\n');
  const ok = run('check', good);
  t.equal(ok.status, 0);
  t.equal(ok.stdout, `${good}: ok\n`);
  const fail = run('check', bad);
  t.equal(fail.status, 1);
  t.equal(fail.stderr, `${bad}:3: wan.mark: expected a number like 0x1, got "banana"\n`);
  const missing = run('check', join(dir, 'nope.ini'));
  t.equal(missing.status, 1);
  t.match(missing.stderr, /nope.ini: cannot read: ENOENT/);
});

t.test('show prints effective values; a bad flag or command exits 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshwan-site-'));
  const file = join(dir, 'site.ini');
  writeFileSync(file, '[wan]\nmark = 0x4\nmask = 0xc\n');
  const shown = run('show', file);
  t.equal(shown.status, 0);
  t.match(shown.stdout, /^wan.mark=0x4\nwan.mask=0xc\nwan.table=1\n/);
  t.match(shown.stdout, /wan_dns.listen=127.0.0.1:54 \[::1\]:54\n/);
  const json = run('show', file, '--json');
  t.equal(JSON.parse(json.stdout).wan.mark, 4);
  t.equal(run('frobnicate').status, 2);
  t.equal(run('show', '--bogus').status, 2);
  t.equal(run('check').status, 2);
  t.match(run('example').stdout, /^; meshwan site file/);
});
