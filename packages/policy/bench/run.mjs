#!/usr/bin/env node
// Bench for @meshwan/policy: in-process derive + plan and the `check` walk on a Gluon node with a big main table;
// then, as root in a network namespace, `meshwan apply` as a process and the daemon's repair latency (a rule
// deleted by hand until it is back), with the netlink monitor and with polling. Prints Markdown for BENCHMARKS.md.
// Needs a build. --quick: fewer routes and runs.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RouteCache } from '@meshwan/netlink';
import { deriveDesired, formatAddress, parseNetwork, planChanges, routingFindings } from '../dist/index.js';
import { readKernel } from '../dist/kernel.js';

const quick = process.argv.includes('--quick');
const routeCount = quick ? 200 : 2000;
const runs = quick ? 3 : 9;
const bin = new URL('../bin/meshwan.js', import.meta.url).pathname;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));

const sections = [
  { type: 'interface', name: 'loopback', options: { ifname: 'lo' } },
  { type: 'interface', name: 'wan6', options: { ifname: 'br-wan', proto: 'dhcpv6', ip6table: '1' } },
  { type: 'interface', name: 'mesh', options: { device: 'bat0' } },
  { type: 'rule6', name: 'wan6_lookup', options: { mark: '0x01/0x01', lookup: '1' } },
  {
    type: 'route6',
    name: 'wan6_unreachable',
    options: { type: 'unreachable', interface: 'loopback', target: '::/0', table: '1', metric: '65535' },
  },
];
const links = [
  { name: 'lo', ifindex: 1, up: true },
  { name: 'br-wan', ifindex: 2, up: true },
  { name: 'bat0', ifindex: 3, up: true },
];
const addresses = [{ dev: 'br-wan', family: 6, address: '2001:db8:1::5', len: 64 }];
const routes = [];
for (let i = 0; i < routeCount; i++) {
  routes.push({
    family: 6,
    table: 254,
    dst: { family: 6, addr: (0xfd00n << 112n) | (BigInt(i) << 64n), len: 64 },
    type: 'unicast',
    dev: 'bat0',
    gateway: 'fe80::9',
    metric: 1024,
    protocol: 4,
  });
}
routes.push({
  family: 6,
  table: 254,
  dst: { family: 6, addr: 0n, len: 0 },
  type: 'unicast',
  dev: 'br-wan',
  gateway: 'fe80::1',
  metric: 1024,
  protocol: 9,
});

const config = parseNetwork(sections);
const split = { mark: 1, mask: 1, table: 1 };
const planMs = [];
let desired;
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  desired = deriveDesired(config, split, { links, addresses, routes });
  planChanges(desired, [], routes);
  planMs.push(performance.now() - t0);
}
// check reads the kernel through @meshwan/netlink's RouteCache: the same state as netlink objects
const ifindex = (dev) => links.find((l) => l.name === dev)?.ifindex;
const cache = new RouteCache();
cache.load({
  links: links.map((l) => ({
    index: l.ifindex,
    name: l.name,
    adminUp: l.up,
    carrier: true,
    operstate: 'up',
    mtu: 1500,
    linkType: 1,
    address: '',
    broadcast: '',
    flags: 1,
    unknown: [],
  })),
  addresses: addresses.map((a) => ({
    family: 6,
    index: ifindex(a.dev),
    address: a.address,
    prefixLength: a.len,
    scope: 'global',
    flags: 0x80,
    flagNames: [],
    preferredLifetimeSeconds: 0xffffffff,
    validLifetimeSeconds: 0xffffffff,
    unknown: [],
  })),
  rules: [...desired.rules].sort((a, b) => a.priority - b.priority),
  routes: [...routes.slice(0, -1), ...desired.routes].map((r) => ({
    family: 6,
    table: r.table,
    type: r.type,
    dst: formatAddress(6, r.dst.addr),
    dstLength: r.dst.len,
    srcLength: 0,
    tos: 0,
    ...(r.gateway !== undefined ? { gateway: r.gateway } : {}),
    ...(r.dev !== undefined ? { oif: ifindex(r.dev) } : {}),
    metric: r.metric,
    protocol: r.protocol,
    scope: 0,
    flags: 0,
    unknown: [],
  })),
});
const state = readKernel(cache);
const checkMs = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  routingFindings(state, { split, families: [6], wanTables: new Set([1]), wanDevices: ['br-wan'] });
  checkMs.push(performance.now() - t0);
}

const lines = [
  '### policy',
  '',
  `\`node packages/policy/bench/run.mjs${quick ? ' --quick' : ''}\` on ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; median of ${runs}.`,
  '',
  '| what | median ms |',
  '| --- | --- |',
  `| derive + plan, Gluon config, ${routeCount} mesh routes in main | ${fmt(median(planMs))} |`,
  `| check's lookups (RouteCache: every probe × source × input device), ${routeCount} routes | ${fmt(median(checkMs))} |`,
];

function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function netnsBench() {
  const ns = `mwbench${process.pid}`;
  const peer = `${ns}p`;
  const root = mkdtempSync(join(tmpdir(), 'meshwan-bench-'));
  try {
    ip('netns', 'add', ns);
    ip('netns', 'add', peer);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'add', 'br-wan', 'type', 'veth', 'peer', 'name', 'up0', 'netns', peer);
    ip('-n', ns, 'link', 'set', 'br-wan', 'up');
    ip('-n', ns, '-6', 'addr', 'add', '2001:db8:1::5/64', 'dev', 'br-wan', 'nodad');
    mkdirSync(join(root, 'etc/config'), { recursive: true });
    writeFileSync(
      join(root, 'etc/config/network'),
      "config interface 'loopback'\n\toption ifname 'lo'\n\nconfig interface 'wan6'\n\toption ifname 'br-wan'\n\toption ip6table '1'\n\nconfig rule6 'wan6_lookup'\n\toption mark '0x01/0x01'\n\toption lookup '1'\n\nconfig route6 'wan6_unreachable'\n\toption type 'unreachable'\n\toption interface 'loopback'\n\toption target '::/0'\n\toption table '1'\n\toption metric '65535'\n",
    );
    const env = { ...process.env, MESHWAN_FIREWALL: 'none' };
    const applyMs = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      spawnSync('ip', ['netns', 'exec', ns, process.execPath, bin, 'apply', '--root', root], { env });
      applyMs.push(performance.now() - t0);
    }
    lines.push(`| \`meshwan apply\` as a process (no change; routing only) | ${fmt(median(applyMs))} |`);
    for (const mode of ['monitor', 'poll']) {
      const denv = { ...env, ...(mode === 'poll' ? { MESHWAN_MONITOR: 'off' } : {}) };
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, bin, 'daemon', '--root', root], {
        env: denv,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      child.stderr.on('data', (d) => {
        log += d;
      });
      while (!log.includes('watching')) await new Promise((r) => setTimeout(r, 20));
      const repairMs = [];
      for (let i = 0; i < runs; i++) {
        ip('-n', ns, '-6', 'rule', 'del', 'pref', '9001');
        const t0 = performance.now();
        while (!ip('-n', ns, '-6', 'rule', 'show', 'pref', '9001').includes('9001')) await new Promise((r) => setTimeout(r, 2));
        repairMs.push(performance.now() - t0);
      }
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      lines.push(
        `| daemon repair of a deleted rule, ${mode === 'monitor' ? 'netlink monitor' : 'polling every 250 ms'} (max ${fmt(Math.max(...repairMs))}) | ${fmt(median(repairMs))} |`,
      );
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['netns', 'del', peer]);
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.getuid?.() === 0) await netnsBench();
else lines.push('', 'Not root: the namespace part (apply as a process, daemon repair latency) was skipped.');
console.log(lines.join('\n'));
