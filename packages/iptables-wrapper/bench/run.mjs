#!/usr/bin/env node
// Bench for @meshwan/iptables-wrapper: N rules applied in one transaction (our apply()) against the same N rules
// added by N separate tool calls (`iptables -A`, `nft add rule`), same run, each in a fresh network namespace.
// Prints Markdown for BENCHMARKS.md. Needs root and a build (make bench does both). --quick: 100 rules.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { IptablesBackend, NftBackend, nftChain, nftRule, ruleCommand } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const n = quick ? 100 : 1000;
const prefix = `mwb${randomBytes(3).toString('hex')}`;

/** N distinct filter OUTPUT rules in documentation ranges. */
function rules(offset) {
  return Array.from({ length: n }, (_, i) => ({
    family: 'ipv4',
    table: 'filter',
    chain: 'OUTPUT',
    match: { protocol: 'tcp', destination: `198.51.100.${i % 256}`, destinationPort: 1024 + offset + i },
    target: { type: 'ACCEPT' },
  }));
}

function run(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function withNamespace(label, fn) {
  const name = `${prefix}-${label}`;
  run(['ip', 'netns', 'add', name]);
  try {
    return fn(name);
  } finally {
    spawnSync('ip', ['netns', 'del', name]);
  }
}

async function time(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Our apply() of N rules (then again, a replacement, a status and a remove), timed in a fresh namespace. */
async function transactions(backend, oneByOne, make) {
  const name = `${prefix}-${backend}-tx`;
  run(['ip', 'netns', 'add', name]);
  try {
    const fw = make(name);
    const a = { rules: rules(0) };
    const b = { rules: rules(n) };
    return {
      backend,
      oneByOne,
      apply: await time(() => fw.apply(a)),
      again: await time(() => fw.apply(a)),
      replace: await time(() => fw.apply(b)),
      status: await time(() => fw.status(b)),
      remove: await time(() => fw.remove()),
    };
  } finally {
    spawnSync('ip', ['netns', 'del', name]);
  }
}

async function benchIptables(variant) {
  const oneByOne = withNamespace(`${variant}-calls`, (ns) => {
    const tool = `iptables-${variant}`;
    run(['ip', 'netns', 'exec', ns, tool, '-w', '-t', 'filter', '-N', 'meshwan_OUTPUT']);
    const start = performance.now();
    for (const rule of rules(0)) {
      const [, ...args] = ruleCommand(rule);
      run(['ip', 'netns', 'exec', ns, tool, ...args]);
    }
    return performance.now() - start;
  });
  return transactions(`iptables-${variant}`, oneByOne, (netns) => new IptablesBackend({ variant, netns }));
}

async function benchNft() {
  const oneByOne = withNamespace('nft-calls', (ns) => {
    run(['ip', 'netns', 'exec', ns, 'nft', 'add', 'table', 'inet', 'meshwan']);
    run(['ip', 'netns', 'exec', ns, 'nft', 'add', 'chain', 'inet', 'meshwan', 'filter_output', '{ type filter hook output priority 0; }']);
    const start = performance.now();
    for (const rule of rules(0))
      run(['ip', 'netns', 'exec', ns, 'nft', `add rule inet meshwan ${nftChain('filter', 'OUTPUT')} ${nftRule(rule)}`]);
    return performance.now() - start;
  });
  return transactions('nft', oneByOne, (netns) => new NftBackend({ netns }));
}

const results = [await benchIptables('nft'), await benchIptables('legacy'), await benchNft()];
const ms = (x) => `${x < 100 ? x.toFixed(1) : Math.round(x)} ms`;
const version = (argv) => execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' }).trim().split('\n')[0];
console.log(`### iptables-wrapper: ${n} rules in one transaction vs ${n} separate calls

\`node packages/iptables-wrapper/bench/run.mjs${quick ? ' --quick' : ''}\` on ${cpus().length}× ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Linux ${version(['uname', '-r'])}, ${version(['iptables-legacy', '-V'])}, ${version(['nft', '--version'])}.
Each backend in fresh network namespaces; every tool call runs through \`ip netns exec\`. Rules: filter OUTPUT,
\`-p tcp -d 198.51.100.X --dport P -j ACCEPT\`. "apply" is our \`apply()\` (read, plan, \`--test\`, commit);
"separate calls" is one \`iptables -w -A\` / \`nft add rule\` per rule; "again" applies the same ruleset (no write);
"replace" applies ${n} other rules; one run, wall clock.

| backend | apply (1 transaction) | ${n} separate calls | speed-up | apply again | replace | status | remove |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${results.map((r) => `| ${r.backend} | ${ms(r.apply)} | ${ms(r.oneByOne)} | ${(r.oneByOne / r.apply).toFixed(1)}× | ${ms(r.again)} | ${ms(r.replace)} | ${ms(r.status)} | ${ms(r.remove)} |`).join('\n')}`);
