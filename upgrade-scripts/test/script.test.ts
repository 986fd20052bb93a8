// runStep, the shell of every script entry, in-process: context from the environment, one stderr line on failure.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { UpgradeError } from '../src/errors.js';
import { runStep } from '../src/script.js';
import { upgradeMeshVpn } from '../src/steps.js';
import { makeRoot, read } from './lib.js';

function captureStderr(fn: () => number): { code: number; stderr: string } {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string | Uint8Array): boolean => {
    chunks.push(String(chunk));
    return true;
  };
  try {
    return { code: fn(), stderr: chunks.join('') };
  } finally {
    process.stderr.write = write;
  }
}

t.test('a step runs against MESHWAN_ROOT and the site file under it', async (t) => {
  const root = makeRoot(t);
  mkdirSync(join(root, 'lib/gluon'), { recursive: true });
  writeFileSync(join(root, 'lib/gluon/site.ini'), '[mesh_vpn]\ngroup = vpn\ngid = 900\n');
  const run = captureStderr(() => runStep('410-meshwan-mesh-vpn', upgradeMeshVpn, { MESHWAN_ROOT: root }));
  t.same(run, { code: 0, stderr: '' });
  t.equal(read(root, 'etc/group'), 'vpn:x:900:\n');
});

t.test('a failure is one line naming the script, the file and the line; exit status 1', async (t) => {
  const root = makeRoot(t);
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nother:x:800:\n');
  const run = captureStderr(() => runStep('410-meshwan-mesh-vpn', upgradeMeshVpn, { MESHWAN_ROOT: root }));
  t.equal(run.code, 1);
  t.equal(
    run.stderr,
    `410-meshwan-mesh-vpn: ${join(root, 'etc/group')}:2: gid 800 for group gluon-mesh-vpn is already taken by group other\n`,
  );
  const thrown = captureStderr(() =>
    runStep('x', () => {
      throw new UpgradeError('/f', 'bad');
    }),
  );
  t.same(thrown, { code: 1, stderr: 'x: /f: bad\n' });
  t.equal(captureStderr(() => runStep('y', () => Promise.reject(new Error('async')).catch(() => 0))).code, 0);
});
