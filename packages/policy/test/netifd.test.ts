import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { netifdRunning } from '../src/netifd.js';

/** A fake procfs: `self` in namespace `net:[1]`, and the given processes. */
function fakeProc(t: Test, procs: readonly { pid: number; comm: string; net: string }[]): string {
  const root = mkdtempSync(join(tmpdir(), 'meshwan-proc-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'self/ns'), { recursive: true });
  symlinkSync('net:[1]', join(root, 'self/ns/net'));
  mkdirSync(join(root, 'sys'));
  for (const p of procs) {
    mkdirSync(join(root, String(p.pid), 'ns'), { recursive: true });
    writeFileSync(join(root, String(p.pid), 'comm'), `${p.comm}\n`);
    symlinkSync(p.net, join(root, String(p.pid), 'ns/net'));
  }
  // A process that exited mid-scan: its directory is there, its files are not.
  mkdirSync(join(root, '99'));
  return root;
}

t.test('netifd runs only when a netifd process shares meshwan’s network namespace', async (t) => {
  t.equal(netifdRunning(fakeProc(t, [{ pid: 10, comm: 'ubusd', net: 'net:[1]' }])), false, 'no netifd');
  t.equal(netifdRunning(fakeProc(t, [{ pid: 11, comm: 'netifd', net: 'net:[2]' }])), false, 'netifd of another namespace');
  t.equal(netifdRunning(fakeProc(t, [{ pid: 12, comm: 'netifd', net: 'net:[1]' }])), true, 'netifd beside meshwan');
  t.equal(netifdRunning(join(tmpdir(), 'meshwan-no-such-proc')), false, 'no procfs: no netifd');
});
