// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * meshwan-fw as the router runs it: bundled for QuickJS by mk/bundle.mjs and run by meshwan-js (here and, for
 * big-endian MIPS, under qemu-user). Its output and exit codes equal the Node build's on real rules in a
 * namespace, and applies through the API from several meshwan-js processes at once (tools started with the
 * seam's programs, serialized by the flock holder) end in one consistent ruleset.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createNamespace } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { bundleEntry, type Runtime, runBundle, scratch } from '../../os/test/lib/seam.js';
import { dnsRedirectRuleset, type Ruleset } from '../src/index.js';
import { backendCases, missingPart } from './lib.js';

t.setTimeout(300_000);
requireParts(missingPart);

const packageDir = resolve(fileURLToPath(new URL('..', import.meta.url)));
const redirect: Ruleset = dnsRedirectRuleset({ gid: 800 });
const runtimes: Runtime[] = ['node', 'host', 'mips_24kc'];

/** What each runtime runs: Node's bundle, and bytecode compiled by each meshwan-js build (bundleEntry). */
async function bundles(dir: string, entry: string): Promise<Partial<Record<Runtime, string>>> {
  const out: Partial<Record<Runtime, string>> = {};
  for (const runtime of runtimes) out[runtime] = await bundleEntry(join(packageDir, entry), runtime, dir);
  return out;
}

t.test('meshwan-fw print and status: the same output and exit code on Node, meshwan-js and mips', async (t) => {
  const dir = scratch(t);
  const fw = await bundles(dir, 'src/main.ts');
  const files = t.testdir({ 'redirect.json': JSON.stringify(redirect) });
  const file = `${files}/redirect.json`;
  const run = (args: readonly string[]) => Promise.all(runtimes.map((r) => runBundle(fw[r] ?? '', r, args)));
  const same = async (args: readonly string[], status: number, what: string) => {
    const ran = await run(args);
    for (const [i, r] of ran.entries()) t.equal(r.status, status, `${what}: ${runtimes[i]} exits ${status} (${r.stderr})`);
    for (const [i, r] of ran.entries()) t.same([r.stdout, r.stderr], [ran[0]?.stdout, ran[0]?.stderr], `${what}: ${runtimes[i]} = node`);
    return ran[0]?.stdout ?? '';
  };
  t.match(await same(['print', file, '--backend', 'nft'], 0, 'print nft'), /meta skgid 800 udp dport 53 dnat ip to 127.0.0.1:54/);
  t.match(await same(['print', file], 0, 'print iptables'), /-j DNAT --to-destination \[::1\]:54/);
  await same(['print', '--frobnicate'], 2, 'an unknown option');
  await same(['print', `${files}/none.json`], 2, 'a missing ruleset');
  await same(['apply', file], 2, 'apply refused');
  for (const name of ['nft', 'iptables-nft', 'iptables-legacy'] as const) {
    const ns = createNamespace(t, 'fwqjs');
    const c = backendCases.find((b) => b.name === name);
    t.match(await same(['status', file, '--backend', name, '--netns', ns.name], 1, `${name}: drift`), /missing/);
    await c?.make(ns.name).apply(redirect);
    t.equal(await same(['status', file, '--backend', name, '--netns', ns.name], 0, `${name}: in sync`), `${name}: in sync\n`);
    t.match(await same(['status', file, '--backend', name, '--netns', ns.name, '--json'], 0, `${name}: --json`), /"inSync": true/);
    // both families' tools run at once, so which one's failure is named first varies from run to run
    for (const [i, r] of (await run(['status', file, '--backend', name, '--netns', `${ns.name}-gone`])).entries()) {
      t.equal(r.status, 3, `${name}: a namespace that is gone: ${runtimes[i]} exits 3`);
      t.match(r.stderr, new RegExp(`^meshwan-fw: ${name}: ip netns exec ${ns.name}-gone .*Cannot open network namespace`));
    }
  }
});

t.test('applies from several meshwan-js processes at once end in one consistent ruleset', async (t) => {
  const dir = scratch(t);
  const apply = await bundles(dir, 'test/fixtures/apply.ts');
  const b: Ruleset = dnsRedirectRuleset({ gid: 900, port: 5353 });
  const files = t.testdir({ 'a.json': JSON.stringify(redirect), 'b.json': JSON.stringify(b) });
  for (const name of ['iptables-nft', 'iptables-legacy'] as const) {
    const ns = createNamespace(t, 'fwqjs');
    const c = backendCases.find((x) => x.name === name);
    const ran = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        runBundle(apply.host ?? '', 'host', [name.slice('iptables-'.length), ns.name, `${files}/${i % 2 === 0 ? 'a' : 'b'}.json`]),
      ),
    );
    t.same(
      ran.map((r) => r.status),
      [0, 0, 0, 0],
      `${name}: every apply succeeded (${ran.map((r) => r.stderr).join('')})`,
    );
    const ours = c?.ours(ns) ?? '';
    t.equal((ours.match(/^-A OUTPUT -j meshwan_OUTPUT$/gm) ?? []).length, 2, `${name}: one jump per family`);
    const inSync = await Promise.all([redirect, b].map((rs) => c?.make(ns.name).status(rs)));
    t.equal(inSync.filter((r) => r?.inSync).length, 1, `${name}: the kernel holds exactly one of the two rulesets`);
  }
});
