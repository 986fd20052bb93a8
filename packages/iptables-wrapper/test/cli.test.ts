// tier: root: network namespaces, SO_MARK or firewall rules
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import t from 'tap';
import { runCli } from '../../../test/lib/cli-io.js';
import { createNamespace } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { runFirewallCli } from '../src/cli.js';
import { dnsRedirectRuleset, type Ruleset } from '../src/index.js';
import { backendCases, missingPart } from './lib.js';

t.setTimeout(240_000);

const cli = (...args: string[]) => runCli(runFirewallCli, args);

/**
 * An apply through the API in its own process, for the cross-process test: bundled with esbuild once, because
 * starting tap's TypeScript loader in a dozen processes on 2 busy cores takes minutes.
 */
let bundle: string | undefined;
function applyProcess(args: readonly string[]): Promise<number> {
  if (!bundle) {
    const dir = mkdtempSync(join(tmpdir(), 'mw-fw-apply-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    bundle = join(dir, 'apply.mjs');
    buildSync({
      entryPoints: [new URL('./fixtures/apply.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: bundle,
      logLevel: 'error',
    });
  }
  const script = bundle;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

const redirect: Ruleset = dnsRedirectRuleset({ gid: 800 });

requireParts(missingPart);

t.test('usage errors exit 2 and say what was wrong', async (t) => {
  t.match(await cli(), { code: 2, err: /expected a command/ });
  t.match(await cli('bogus'), { code: 2, err: /unknown command "bogus"/ });
  t.match(await cli('print'), { code: 2, err: /expected RULESET.json/ });
  t.match(await cli('print', '--dns-redirect', '800'), { code: 2, err: /Unknown option '--dns-redirect'/ }, "the redirect is policy's");
  t.match(await cli('print', '/nonexistent.json'), { code: 2, err: /\/nonexistent.json: cannot read/ });
  t.match(await cli('status', 'x.json', '--backend', 'pf'), { code: 2, err: /--backend: expected auto, .*got "pf"/ });
  t.match(await cli('print', 'a', 'b'), { code: 2, err: /unexpected argument "b"/ });
  t.match(await cli('print', '--frobnicate'), { code: 2, err: /Unknown option '--frobnicate'/ });
  t.match(await cli('--help'), { code: 0, out: /^usage: meshwan-fw[\s\S]*one owner: `meshwan apply`/ });
  const bad = t.testdir({
    'bad.json': '{"rules": [',
    'invalid.json': JSON.stringify({ rules: [{ family: 4, table: 'nat', chain: 'X', target: { type: 'ACCEPT' } }] }),
  });
  t.match(await cli('print', `${bad}/bad.json`), { code: 2, err: /bad.json: not JSON/ });
  t.match(await cli('print', `${bad}/invalid.json`), { code: 2, err: /meshwan-fw: rules\[0\]\.chain: expected a built-in chain/ });
});

t.test('apply and remove are refused: meshwan apply is the one writer', async (t) => {
  const dir = t.testdir({ 'redirect.json': JSON.stringify(redirect) });
  t.match(await cli('apply', `${dir}/redirect.json`), { code: 2, err: /^meshwan-fw: apply: refused: .*`meshwan apply --firewall-only`/ });
  t.match(await cli('remove', '--backend', 'nft'), { code: 2, err: /^meshwan-fw: remove: refused: .*owns/ });
  t.match(await cli('apply', '--dry-run'), { code: 2, err: /Unknown option '--dry-run'/ });
});

t.test('print shows the commands and changes nothing', async (t) => {
  const dir = t.testdir({ 'redirect.json': JSON.stringify(redirect) });
  t.match(await cli('print', `${dir}/redirect.json`, '--backend', 'nft'), {
    code: 0,
    out: /^nft -f - <<'EOF'\n[\s\S]*meta skgid 800 udp dport 53 dnat ip to 127.0.0.1:54/,
  });
  t.match(await cli('print', `${dir}/redirect.json`), {
    code: 0,
    out: /iptables-restore --noflush -w[\s\S]*-j DNAT --to-destination \[::1\]:54/,
  });
});

for (const name of ['nft', 'iptables-nft', 'iptables-legacy'] as const) {
  t.test(`status in a namespace; apply and remove refused, the rules kept (${name})`, async (t) => {
    const ns = createNamespace(t, 'cli');
    const c = backendCases.find((b) => b.name === name);
    const dir = t.testdir({ 'redirect.json': JSON.stringify(redirect) });
    const file = `${dir}/redirect.json`;
    t.match(await cli('status', file, '--backend', name, '--netns', ns.name), { code: 1, out: /missing/ });
    await c?.make(ns.name).apply(redirect);
    t.match(await cli('status', file, '--backend', name, '--netns', ns.name), { code: 0, out: `${name}: in sync\n` });
    t.match(await cli('status', file, '--backend', name, '--netns', ns.name, '--json'), { code: 0, out: /"inSync": true/ });
    const before = c?.ours(ns);
    t.match(before, /dns-redirect/);
    t.match(await cli('apply', file, '--backend', name, '--netns', ns.name), { code: 2 });
    t.match(await cli('remove', '--backend', name, '--netns', ns.name), { code: 2 });
    t.equal(c?.ours(ns), before, 'the refused commands changed nothing');
    t.match(await cli('status', file, '--backend', name, '--netns', `${ns.name}-gone`), {
      code: 3,
      err: new RegExp(`^meshwan-fw: ${name}: ip netns exec ${ns.name}-gone `),
    });
  });
}

t.test('applies from several processes at once end in one consistent ruleset', async (t) => {
  const a: Ruleset = redirect;
  const b: Ruleset = dnsRedirectRuleset({ gid: 900, port: 5353 });
  const dir = t.testdir({ 'a.json': JSON.stringify(a), 'b.json': JSON.stringify(b) });
  for (const name of ['iptables-nft', 'iptables-legacy'] as const) {
    const ns = createNamespace(t, 'cli');
    const c = backendCases.find((x) => x.name === name);
    const codes = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => applyProcess([name.slice('iptables-'.length), ns.name, `${dir}/${i % 2 === 0 ? 'a' : 'b'}.json`])),
    );
    t.same(codes, [0, 0, 0, 0, 0, 0], `${name}: every apply succeeded`);
    const ours = c?.ours(ns) ?? '';
    t.equal((ours.match(/^-A OUTPUT -j meshwan_OUTPUT$/gm) ?? []).length, 2, `${name}: one jump per family`);
    const inSync = await Promise.all([a, b].map((rs) => c?.make(ns.name).status(rs)));
    t.equal(inSync.filter((r) => r?.inSync).length, 1, `${name}: the kernel holds exactly one of the two rulesets`);
  }
});
