// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * meshwan as the router runs it: src/main.ts bundled for QuickJS by mk/bundle.mjs and run by meshwan-js. On two
 * equal nodes, `apply` by meshwan-js and by Node make the same rules, routes and firewall; a second apply changes
 * nothing on either; `check` and `status` (text and --json) print the same as Node's on the same node.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { isRoot, type Namespace } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { bundleEntry, scratch } from '../../os/test/lib/seam.js';
import { cliEnv, createNode, dualNetworkText, meshwan, type TestNode } from './lib/node.js';

t.setTimeout(300_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');

const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const meshwanJs = join(root, 'build/host/meshwan-js');

function quickjs(bundle: string, n: TestNode, args: readonly string[], env: Record<string, string> = {}) {
  const r = spawnSync('ip', ['netns', 'exec', n.node.name, meshwanJs, bundle, ...args, '--root', n.root], {
    encoding: 'utf8',
    env: cliEnv(env),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What the kernel holds, without what differs between two namespaces by itself (link-local, names, counters). */
function kernel(ns: Namespace): string {
  const parts = ['-4', '-6'].flatMap((f) => [ns.exec('ip', f, 'rule'), ns.exec('ip', f, 'route', 'show', 'table', 'all')]);
  const firewall = ['iptables-save', 'ip6tables-save'].map((tool) => ns.try(tool).stdout);
  const nft = ns.try('nft', '-s', 'list', 'ruleset').stdout;
  return [...parts, ...firewall, nft]
    .join('\n')
    .split('\n')
    .filter((l) => !/fe80::|ff00::|^#/.test(l))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
    .join('\n');
}

t.test('apply, check and status on meshwan-js equal Node', async (t) => {
  const dir = scratch(t);
  const bundle = await bundleEntry(join(root, 'packages/policy/src/main.ts'), 'host', dir);
  const byNode = createNode(t, dualNetworkText);
  const byQuickjs = createNode(t, dualNetworkText);

  const nodeApply = meshwan(byNode, ['apply']);
  const qjsApply = quickjs(bundle, byQuickjs, ['apply']);
  t.equal(nodeApply.status, 0, `node apply (${nodeApply.stderr})`);
  t.equal(qjsApply.status, 0, `meshwan-js apply (${qjsApply.stderr})`);
  t.match(qjsApply.stdout, /add rule 9000: not from all fwmark 0x1\/0x1 lookup main proto meshwan/);
  t.equal(qjsApply.stdout, nodeApply.stdout, 'the same changes reported');
  t.equal(qjsApply.stderr, nodeApply.stderr, 'the same warnings');
  t.equal(kernel(byQuickjs.node), kernel(byNode.node), 'the same rules, routes and firewall');
  t.match(kernel(byQuickjs.node), /meshwan/, 'the firewall holds our rules');

  for (const [name, again] of [
    ['node', meshwan(byNode, ['apply'])],
    ['meshwan-js', quickjs(bundle, byQuickjs, ['apply'])],
  ] as const)
    t.same([again.status, again.stdout], [0, 'no change\n'], `${name}: a second apply changes nothing (${again.stderr})`);

  for (const args of [['check'], ['check', '--json'], ['status'], ['status', '--json'], ['apply', '--firewall-only']]) {
    const want = meshwan(byQuickjs, args);
    const got = quickjs(bundle, byQuickjs, args);
    t.equal(got.status, want.status, `${args.join(' ')}: exit ${want.status} (${got.stderr})`);
    t.equal(got.stdout, want.stdout, `${args.join(' ')}: the same output`);
    t.equal(got.stderr, want.stderr, `${args.join(' ')}: the same stderr`);
  }
  const usage = quickjs(bundle, byQuickjs, ['frobnicate']);
  t.equal(usage.status, 2, 'bad usage exits 2');
  t.match(usage.stderr, /meshwan: unknown command frobnicate\nusage: meshwan apply/);
});

/** Waits for `ok()` with a generous deadline (a loaded machine), checking every 50 ms. */
async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('the daemon on meshwan-js repairs a deleted gate rule and stops on SIGTERM', async (t) => {
  const dir = scratch(t);
  const bundle = await bundleEntry(join(root, 'packages/policy/src/main.ts'), 'host', dir);
  const n = createNode(t, dualNetworkText);
  // `ip netns exec` execs the engine, so the child's pid is meshwan-js's own
  const daemon = spawn('ip', ['netns', 'exec', n.node.name, meshwanJs, bundle, 'daemon', '--root', n.root], {
    env: cliEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((done) => daemon.once('exit', (code) => done(code)));
  t.teardown(() => {
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
  });
  let log = '';
  daemon.stderr.on('data', (d: Buffer) => {
    log += d.toString('utf8');
  });
  await until('watching', () => log.includes('watching (netlink monitor)'));
  const gate = () => n.node.exec('ip', '-6', 'rule', 'show', 'pref', '9001');
  t.match(gate(), /9001/, 'the start-up apply made the gate');
  n.node.ip('-6', 'rule', 'del', 'pref', '9001');
  await until('the repair', () => gate().includes('9001'));
  t.pass('the deleted rule is back');
  daemon.kill('SIGTERM');
  t.equal(await exited, 0, `exits 0 on SIGTERM (${log})`);
  t.match(log, /stopped/);
});
