/**
 * One program, every engine: the seam's conformance suite. The same fixture, bundled for Node and for QuickJS,
 * must print the same thing on Node, on meshwan-js here, and on meshwan-js for big-endian MIPS under qemu-user.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { filesExpected } from './lib/files-expected.js';
import { bundleFixture, type Runtime, runBundle, scratch } from './lib/seam.js';

const runtimes: Runtime[] = ['node', 'host', 'mips_24kc'];

t.test('proc and timers behave the same on every engine', async (t) => {
  const dir = scratch(t);
  for (const runtime of runtimes) {
    const bundle = await bundleFixture('seam.ts', runtime, dir);
    const ran = await runBundle(bundle, runtime, ['3', 'two words'], { SEAM_PROBE: 'probe value' });
    t.equal(ran.status, 3, `${runtime}: the exit code the program asked for (${ran.stderr})`);
    t.equal(ran.stderr, 'to stderr\n', `${runtime}: stderr`);
    const seen: unknown = JSON.parse(ran.stdout);
    t.same(
      seen,
      {
        engine: runtime === 'node' ? 'node' : 'quickjs',
        argv: ['3', 'two words'],
        env: 'probe value',
        unset: null,
        order: ['every 1', 'every 2', 'every 3', 'after 40'],
        elapsedAtLeast40: true,
      },
      runtime,
    );
  }
});

t.test('a QuickJS bundle holds nothing of Node: a node:* import fails the bundle, naming the file', async (t) => {
  const dir = scratch(t);
  await t.rejects(bundleFixture('uses-node.ts', 'host', dir), /node:fs/);
});

/** Runs `fixture` on every engine with a fresh directory as its argument; checks each JSON output and their sameness. */
async function sameOnEveryEngine(t: Test, fixture: string, check: (seen: unknown, runtime: Runtime) => void): Promise<void> {
  const dir = scratch(t);
  const results: string[] = [];
  for (const runtime of runtimes) {
    const bundle = await bundleFixture(fixture, runtime, dir);
    const root = mkdtempSync(join(dir, `root-${runtime}-`));
    const ran = await runBundle(bundle, runtime, [root]);
    t.equal(ran.status, 0, `${runtime}: exit (${ran.stderr})`);
    t.equal(ran.stderr, '', `${runtime}: stderr`);
    results.push(ran.stdout);
    check(JSON.parse(ran.stdout), runtime);
  }
  t.equal(new Set(results).size, 1, 'the same output on every engine');
}

t.test('files behave the same on every engine: atomic writes, modes, listing, descriptors, locks and errors', (t) =>
  sameOnEveryEngine(t, 'files.ts', (seen, runtime) => t.match(seen, filesExpected, runtime)),
);

t.test('programs, signals and paths behave the same on every engine', (t) =>
  sameOnEveryEngine(t, 'programs.ts', (seen, runtime) =>
    t.same(
      seen,
      {
        run: { code: 3, signal: null, same: true, stderr: 'to stderr é\n' },
        killed: { code: null, signal: 'SIGTERM' },
        missing: 'ENOENT spawn meshwan-no-such-program',
        early: 'early',
        missingSpawn: 'ENOENT spawn meshwan-no-such-program',
        holder: { events: ['stdout 6', 'timer'], code: 0, stdout: 'ready\n', pidPositive: true },
        sleeper: { code: null, signal: 'SIGKILL' },
        sync: { code: 4, stdout: 'hi\n' },
        whichSh: true,
        whichMissing: null,
        notExecutable: 'EACCES spawn DIR/not-executable',
        cwd: 'DIR/work\n',
        ownCwd: true,
        signals: ['a', 'b'],
        chainBeforeFarTimer: true,
        alive: [true, true, false],
        sendMissing: 'ESRCH kill ',
        readlink: 'target',
        readlinkMissing: 'ENOENT readlink DIR/none',
        mtimeRecent: true,
        inPlace: 'new\n',
        inPlaceMissing: 'ENOENT open DIR/none',
      },
      runtime,
    ),
  ),
);
