import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parseReconfigureArgs } from '../src/cli.js';
import { UsageError } from '../src/errors.js';
import { listScripts } from '../src/reconfigure.js';

const bin = new URL('../bin/meshwan-reconfigure.js', import.meta.url).pathname;

function stagedRoot(t: Test, scripts: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'meshwan-reconf-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'lib/gluon/upgrade');
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), body);
    chmodSync(join(dir, name), 0o755);
  }
  return root;
}

const log = (name: string) => `#!/bin/sh\necho "${name} root=$MESHWAN_ROOT" >> "$MESHWAN_ROOT/log"\n`;

t.test('runs every script in numeric order with MESHWAN_ROOT, and names the failures', async (t) => {
  const root = stagedRoot(t, {
    '990-commit': log('990'),
    '110-network': `${log('110')}exit 3\n`,
    '99-early': log('99'),
    '500-vpn': `${log('500')}kill -9 $$\n`,
    '.hidden': log('hidden'),
  });
  writeFileSync(join(root, 'lib/gluon/upgrade/400-noexec'), log('400'));
  t.same(listScripts(join(root, 'lib/gluon/upgrade')), ['99-early', '110-network', '400-noexec', '500-vpn', '990-commit']);
  const run = spawnSync(process.execPath, [bin, '--root', root], { encoding: 'utf8' });
  t.equal(run.status, 1);
  t.equal(readFileSync(join(root, 'log'), 'utf8'), ['99', '110', '500', '990'].map((n) => `${n} root=${root}\n`).join(''));
  t.equal(run.stdout, ['99-early', '110-network', '400-noexec', '500-vpn', '990-commit'].map((n) => `Configuring: ${n}\n`).join(''));
  t.match(run.stderr, /4 of 5|3 of 5/);
  t.match(run.stderr, /110-network \(exit 3\), 400-noexec \(cannot run: EACCES\), 500-vpn \(killed by SIGKILL\)/);
  t.match(run.stderr, /One or more upgrade scripts failed/);
});

t.test('all good: exit 0, quiet stderr', async (t) => {
  const root = stagedRoot(t, { '001-a': log('1'), '002-b': log('2') });
  const run = spawnSync(process.execPath, [bin, `--root=${root}`], { encoding: 'utf8' });
  t.equal(run.status, 0);
  t.equal(run.stderr, '');
});

t.test('usage errors exit 2; a root without upgrade scripts exits 1', async (t) => {
  t.equal(spawnSync(process.execPath, [bin, '--bogus'], { encoding: 'utf8' }).status, 2);
  t.equal(spawnSync(process.execPath, [bin, '--root'], { encoding: 'utf8' }).status, 2);
  t.equal(spawnSync(process.execPath, [bin, '--root='], { encoding: 'utf8' }).status, 2);
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /usage: meshwan-reconfigure/);
  const emptyRoot = mkdtempSync(join(tmpdir(), 'meshwan-reconf-'));
  t.teardown(() => rmSync(emptyRoot, { recursive: true, force: true }));
  const empty = spawnSync(process.execPath, [bin, '--root', emptyRoot], { encoding: 'utf8' });
  t.equal(empty.status, 1);
  t.match(empty.stderr, /ENOENT/);
  t.same(parseReconfigureArgs([]), { root: '/' });
  t.throws(() => parseReconfigureArgs(['x']), UsageError);
});
