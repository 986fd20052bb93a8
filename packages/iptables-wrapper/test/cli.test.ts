// tier: root: network namespaces, SO_MARK or firewall rules
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import t from 'tap';
import { runFirewallCli } from '../src/cli.js';
import { dnsRedirectRuleset, type Ruleset } from '../src/index.js';
import { backendCases, namespace, skipReason } from './lib.js';

t.setTimeout(240_000);

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runFirewallCli(args, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}

/**
 * The command in its own process, for the cross-process test: bundled with esbuild once, because starting tap's
 * TypeScript loader in a dozen processes on 2 busy cores takes minutes.
 */
let bundle: string | undefined;
function cliProcess(args: readonly string[]): Promise<number> {
  if (!bundle) {
    const dir = mkdtempSync(join(tmpdir(), 'mw-fw-cli-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    bundle = join(dir, 'meshwan-fw.mjs');
    buildSync({
      entryPoints: [new URL('./fixtures/cli.ts', import.meta.url).pathname],
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

t.test('usage errors exit 2 and say what was wrong', async (t) => {
  t.match(await cli(), { code: 2, err: /expected a command/ });
  t.match(await cli('bogus'), { code: 2, err: /unknown command "bogus"/ });
  t.match(await cli('print'), { code: 2, err: /expected RULESET.json or --dns-redirect GID/ });
  t.match(await cli('print', '--dns-redirect', 'vpn'), { code: 2, err: /--dns-redirect: expected a numeric gid, got "vpn"/ });
  t.match(await cli('print', '--dns-redirect', '800', '--port', 'x'), { code: 2, err: /--port: expected a port number/ });
  t.match(await cli('print', '/nonexistent.json'), { code: 2, err: /\/nonexistent.json: cannot read/ });
  t.match(await cli('apply', '--dns-redirect', '800', '--backend', 'pf'), { code: 2, err: /--backend: expected auto/ });
  t.match(await cli('print', 'a', 'b'), { code: 2, err: /unexpected argument "b"/ });
  t.match(await cli('print', '--frobnicate'), { code: 2, err: /Unknown option '--frobnicate'/ });
  t.match(await cli('--help'), { code: 0, out: /^usage: meshwan-fw/ });
  const bad = t.testdir({
    'bad.json': '{"rules": [',
    'invalid.json': JSON.stringify({ rules: [{ family: 'ipv4', table: 'nat', chain: 'X', target: { type: 'ACCEPT' } }] }),
  });
  t.match(await cli('print', `${bad}/bad.json`), { code: 2, err: /bad.json: not JSON/ });
  t.match(await cli('print', `${bad}/invalid.json`), { code: 2, err: /meshwan-fw: rules\[0\]\.chain: expected a built-in chain/ });
});

t.test('print and --dry-run show commands and change nothing', async (t) => {
  t.match(await cli('print', '--dns-redirect', '800', '--backend', 'nft'), {
    code: 0,
    out: /^nft -f - <<'EOF'\n[\s\S]*meta skgid 800 udp dport 53 dnat ip to 127.0.0.1:54/,
  });
  t.match(await cli('print', '--dns-redirect', '800', '--port', '5300'), { code: 0, out: /-j DNAT --to-destination \[::1\]:5300/ });
  t.match(await cli('apply', '--dns-redirect', '800', '--dry-run'), {
    code: 0,
    out: /iptables-restore --noflush -w[\s\S]*dry-run: applied/,
  });
  t.match(await cli('status', '--dns-redirect', '800', '--dry-run'), { code: 1, out: /missing-chain ipv4 nat meshwan_OUTPUT/ });
  t.match(await cli('remove', '--dry-run', '--json'), { code: 0, out: /"removed": true/ });
});

for (const name of ['nft', 'iptables-nft', 'iptables-legacy'] as const) {
  t.test(`apply, status and remove in a namespace (${name})`, { skip: skipReason }, async (t) => {
    const ns = namespace(t, 'cli');
    const c = backendCases.find((b) => b.name === name);
    t.match(await cli('status', '--dns-redirect', '800', '--backend', name, '--netns', ns.name), { code: 1, out: /missing/ });
    t.match(await cli('apply', '--dns-redirect', '800', '--backend', name, '--netns', ns.name), {
      code: 0,
      out: new RegExp(`^${name}: applied; repaired`),
    });
    t.match(await cli('apply', '--dns-redirect', '800', '--backend', name, '--netns', ns.name), {
      code: 0,
      out: `${name}: already in place\n`,
    });
    t.match(await cli('status', '--dns-redirect', '800', '--backend', name, '--netns', ns.name, '--json'), {
      code: 0,
      out: /"inSync": true/,
    });
    t.match(c?.ours(ns), /dns-redirect/);
    const dir = t.testdir({
      'refused.json': JSON.stringify({
        rules: [
          { family: 'ipv4', table: 'nat', chain: 'POSTROUTING', target: { type: 'jump', chain: 'meshwan_bad' } },
          {
            family: 'ipv4',
            table: 'nat',
            chain: 'meshwan_bad',
            match: { protocol: 'udp' },
            target: { type: 'DNAT', address: '192.0.2.1', port: 53 },
          },
        ],
      }),
    });
    t.match(await cli('apply', `${dir}/refused.json`, '--backend', name, '--netns', ns.name), {
      code: 3,
      err: new RegExp(`^meshwan-fw: ${name}: ip netns exec ${ns.name} `),
    });
    t.match(await cli('remove', '--backend', name, '--netns', ns.name), { code: 0, out: `${name}: removed\n` });
    t.equal(c?.ours(ns), '');
  });
}

t.test('applies from several processes at once end in one consistent ruleset', { skip: skipReason }, async (t) => {
  const a: Ruleset = dnsRedirectRuleset({ gid: 800 });
  const b: Ruleset = dnsRedirectRuleset({ gid: 900, port: 5353 });
  const dir = t.testdir({ 'a.json': JSON.stringify(a), 'b.json': JSON.stringify(b) });
  for (const name of ['iptables-nft', 'iptables-legacy'] as const) {
    const ns = namespace(t, 'cli');
    const c = backendCases.find((x) => x.name === name);
    const codes = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => cliProcess(['apply', `${dir}/${i % 2 === 0 ? 'a' : 'b'}.json`, '--backend', name, '--netns', ns.name])),
    );
    t.same(codes, [0, 0, 0, 0, 0, 0], `${name}: every apply succeeded`);
    const ours = c?.ours(ns) ?? '';
    t.equal((ours.match(/^-A OUTPUT -j meshwan_OUTPUT$/gm) ?? []).length, 2, `${name}: one jump per family`);
    const inSync = await Promise.all([a, b].map((rs) => c?.make(ns.name).status(rs)));
    t.equal(inSync.filter((r) => r?.inSync).length, 1, `${name}: the kernel holds exactly one of the two rulesets`);
  }
});
