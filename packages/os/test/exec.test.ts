// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * programs.execInPlace on every engine (test/fixtures/exec.ts): the program's exit code, its death by a signal,
 * its group and environment, and the failures a shell reports as 127 and 126 are the same on Node, meshwan-js and
 * big-endian MIPS meshwan-js under qemu-user. On meshwan-js it is a real exec: the program has the pid this test
 * started (qemu-user passes a host program's execve to the kernel, so under qemu the host's sh runs in its place).
 * setgid needs root, so this file runs in the root tier.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isRoot } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { bundleFixture, type Ran, type Runtime, runBundle, scratch } from './lib/seam.js';

requireParts(isRoot() ? false : 'needs root to setgid');
t.setTimeout(240_000);

const runtimes: Runtime[] = ['node', 'host', 'mips_24kc'];
const dir = scratch(t);
chmodSync(dir, 0o755); // the unprivileged case reads the bundles too
const bundles = new Map<Runtime, string>();
for (const runtime of runtimes) bundles.set(runtime, await bundleFixture('exec.ts', runtime, dir));

function run(runtime: Runtime, args: readonly string[], wrapper: readonly string[] = []): Promise<Ran> {
  return runBundle(bundles.get(runtime) ?? '', runtime, args, {}, wrapper);
}

/** `seam pid=P` and the program's `pid=Q`, each replaced by whether it is the pid this test started. */
function pids(ran: Ran): string {
  return ran.stdout.replace(/pid=(\d+)/g, (_, pid: string) => `pid=${Number(pid) === ran.pid ? 'started' : 'other'}`);
}

t.test('the program runs with its group, its environment, and ends as this process', async (t) => {
  const outputs: string[] = [];
  for (const runtime of runtimes) {
    const ran = await run(runtime, [
      '800',
      'sh',
      '-c',
      'echo "pid=$$ gid=$(id -g) groups=$(id -G) probe=$EXEC_PROBE home=$(printenv HOME || echo unset)"; exit 7',
    ]);
    t.equal(ran.status, 7, `${runtime}: the program's exit code (${ran.stderr})`);
    t.equal(ran.stderr, '', `${runtime}: stderr`);
    const inPlace = runtime !== 'node';
    // meshwan-js: the program IS this process. Node emulates the exec with a child, whose pid differs.
    t.equal(
      pids(ran),
      `seam pid=started pid=${inPlace ? 'started' : 'other'} gid=800 groups=800 probe=probe value home=unset\n`,
      `${runtime}: pid, gid, supplementary groups and the environment given`,
    );
    outputs.push(ran.stdout.replace(/pid=\d+/g, 'pid=P'));
  }
  t.equal(new Set(outputs).size, 1, 'the same output on every engine');
});

t.test('a program killed by a signal: the process dies of it', async (t) => {
  for (const runtime of runtimes) {
    const ran = await run(runtime, ['-', 'sh', '-c', 'kill -TERM $$']);
    if (runtime === 'node') t.ok(ran.signal === 'SIGTERM' || ran.status === 143, `node: SIGTERM or 128+15 (${ran.status} ${ran.signal})`);
    else t.same([ran.status, ran.signal], [null, 'SIGTERM'], `${runtime}: killed by SIGTERM`);
  }
});

t.test('failures: no such program, not executable, setgid refused to an unprivileged user', async (t) => {
  const notExecutable = join(dir, 'not-executable');
  writeFileSync(notExecutable, 'echo never\n', { mode: 0o644 });
  const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  for (const runtime of runtimes) {
    const missing = await run(runtime, ['-', 'meshwan-no-such-program', 'x']);
    t.same([missing.status, pids(missing)], [9, 'seam pid=started failed ENOENT execvp meshwan-no-such-program\n'], `${runtime}: ENOENT`);
    const denied = await run(runtime, ['-', notExecutable]);
    t.same([denied.status, pids(denied)], [9, `seam pid=started failed EACCES execvp ${notExecutable}\n`], `${runtime}: EACCES`);
    const refused = await run(runtime, ['800', 'true'], nobody);
    t.same([refused.status, pids(refused)], [9, 'seam pid=started failed EPERM setgid true\n'], `${runtime}: EPERM (${refused.stderr})`);
  }
});
