/**
 * meshwan-reconfigure as the router runs it: src/main.ts bundled for QuickJS, compiled to bytecode and run by
 * meshwan-js here and for big-endian MIPS under qemu-user (its scripts are the host's sh: qemu-user hands their
 * execve to the kernel), and Node's entry (dist): the same order, output, failures and exit codes on each.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { bundleEntry, type Ran, type Runtime, runBundle, scratch } from '../../packages/os/test/lib/seam.js';
import { absolutePath, parseReconfigureArgs } from '../src/cli.js';
import { UsageError } from '../src/errors.js';
import { listScripts } from '../src/reconfigure.js';

t.setTimeout(240_000);
const runtimes: Runtime[] = ['host', 'mips_24kc', 'node'];
const entry = new URL('../src/main.ts', import.meta.url).pathname;
const dist = new URL('../dist/main.js', import.meta.url).pathname;
const dir = scratch(t);
const entries = new Map<Runtime, string>();
for (const runtime of runtimes) entries.set(runtime, runtime === 'node' ? dist : await bundleEntry(entry, runtime, dir));

const reconfigure = (runtime: Runtime, ...args: string[]): Promise<Ran> => runBundle(entries.get(runtime) ?? '', runtime, args);

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

const log = (name: string) => `#!/bin/sh\necho "${name} root=$MESHWAN_ROOT cwd=$(pwd)" >> "$MESHWAN_ROOT/log"\n`;

for (const runtime of runtimes) {
  t.test(`${runtime}: runs every script in numeric order with MESHWAN_ROOT, and names the failures`, async (t) => {
    const root = stagedRoot(t, {
      '990-commit': log('990'),
      '110-network': `${log('110')}exit 3\n`,
      '99-early': log('99'),
      '500-vpn': `${log('500')}kill -9 $$\n`,
      '.hidden': log('hidden'),
    });
    writeFileSync(join(root, 'lib/gluon/upgrade/400-noexec'), log('400'));
    t.same(listScripts(join(root, 'lib/gluon/upgrade')), ['99-early', '110-network', '400-noexec', '500-vpn', '990-commit']);
    const run = await reconfigure(runtime, '--root', root);
    t.equal(run.status, 1);
    const upgrade = join(root, 'lib/gluon/upgrade');
    t.equal(
      readFileSync(join(root, 'log'), 'utf8'),
      ['99', '110', '500', '990'].map((n) => `${n} root=${root} cwd=${upgrade}\n`).join(''),
      'in order, under the root, in the upgrade directory',
    );
    t.equal(run.stdout, ['99-early', '110-network', '400-noexec', '500-vpn', '990-commit'].map((n) => `Configuring: ${n}\n`).join(''));
    t.equal(
      run.stderr,
      'meshwan-reconfigure: 3 of 5 upgrade scripts failed: 110-network (exit 3), 400-noexec (cannot run: EACCES), 500-vpn (killed by SIGKILL)\n' +
        'One or more upgrade scripts failed. Please review the above error messages.\n',
    );
  });

  t.test(`${runtime}: all good: exit 0, quiet stderr, each script's output after its line`, async (t) => {
    const root = stagedRoot(t, { '001-a': '#!/bin/sh\necho one says\n', '002-b': '#!/bin/sh\necho two says; echo two warns >&2\n' });
    const run = await reconfigure(runtime, `--root=${root}/./lib/..`);
    t.equal(run.status, 0);
    t.equal(run.stderr, 'two warns\n');
    t.equal(
      run.stdout,
      'Configuring: 001-a\none says\nConfiguring: 002-b\ntwo says\n',
      'the runner flushes its line before the script writes',
    );
  });

  t.test(`${runtime}: usage errors exit 2; a root without upgrade scripts exits 1`, async (t) => {
    for (const args of [['--bogus'], ['--root'], ['--root=']]) {
      const r = await reconfigure(runtime, ...args);
      t.equal(r.status, 2, args.join(' '));
      t.match(r.stderr, /^meshwan-reconfigure: .*\nusage: meshwan-reconfigure \[--root DIR\]\n$/);
    }
    const help = await reconfigure(runtime, '--help');
    t.same([help.status, help.stdout], [0, 'usage: meshwan-reconfigure [--root DIR]\n']);
    const emptyRoot = mkdtempSync(join(tmpdir(), 'meshwan-reconf-'));
    t.teardown(() => rmSync(emptyRoot, { recursive: true, force: true }));
    const empty = await reconfigure(runtime, '--root', emptyRoot);
    t.equal(empty.status, 1);
    t.match(empty.stderr, /^meshwan-reconfigure: .*ENOENT/);
  });
}

t.test('arguments', async (t) => {
  t.same(parseReconfigureArgs([], '/x'), { root: '/' });
  t.same(parseReconfigureArgs(['--root', 'fw/'], '/tmp'), { root: '/tmp/fw' });
  t.same(absolutePath('/a/b', '../c/./d//'), '/a/c/d');
  t.same(absolutePath('/a', '/../..'), '/');
  t.throws(() => parseReconfigureArgs(['x']), UsageError);
});
