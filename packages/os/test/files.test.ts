/** The Node implementation of files in-process (the bundles in seam.test.ts run it as a child), plus Node-only paths. */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { OsError } from '../src/errors.js';
import { files } from '../src/node/files.js';
import { filesExpected } from './lib/files-expected.js';
import { exerciseFiles } from './lib/files-program.js';
import { scratch } from './lib/seam.js';

t.test('the conformance checks, in-process on Node', async (t) => {
  const root = mkdtempSync(join(scratch(t), 'root-'));
  t.match(exerciseFiles(files, root), filesExpected);
});

t.test('stdin and stdout: read and write on a descriptor', async (t) => {
  const dir = scratch(t);
  files.writeAtomic(join(dir, 'in'), 'abc');
  const fd = files.open(join(dir, 'in'), 'read');
  const into = new Uint8Array(8);
  t.equal(files.read(fd, into), 3);
  t.same([...into.subarray(0, 3)], [97, 98, 99]);
  t.equal(files.read(fd, into), 0, 'the end');
  files.close(fd);
  const out = openSync(join(dir, 'out'), 'w');
  files.write(out, new Uint8Array([104, 105]));
  closeSync(out);
  t.equal(files.readText(join(dir, 'out')), 'hi');
  t.throws(() => files.close(fd), OsError);
});

t.test('without netio.node, flock(1) on an inherited descriptor holds the lock', async (t) => {
  const dir = scratch(t);
  const script = `
    import { files } from ${JSON.stringify(new URL('../dist/node/files.js', import.meta.url).pathname)};
    const fd = files.open(${JSON.stringify(join(dir, 'lock'))}, 'create', 0o600);
    files.lock(fd, 'exclusive');
    try { files.lock(99, 'shared'); } catch (err) { console.log(err.code, err.syscall); }
    files.lock(fd, 'unlock');
    files.lock(fd, 'shared');
    console.log('locked');
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, MESHWAN_OS_NO_ADDON: '1' },
    encoding: 'utf8',
  });
  t.equal(run.stderr, '');
  t.equal(run.stdout, 'EBADF flock\nlocked\n');
});
