// tier: root: network namespaces, SO_MARK or firewall rules
// A WAN address change under load, in both orders (issues #11, #17). New first, as netifd applies a renewed lease:
// the new address and prefix, then the default route moves to the new gateway, then the old address goes. Old
// first, as udhcpc's `deconfig` then `bound` (and odhcp6c withdrawing a prefix) do it: the old address and routes
// go, table 1 sits on its unreachable floor for a moment, then the new lease comes. The VPN group's lookups run
// through the redirect the whole time and none may fail; afterwards wan0 must only see upstream queries from the
// new address. Each order prints `renumber ORDER: failed N of M lookups, held N, longest hold N ms` (BENCHMARKS.md).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { DigResult } from '../lib/dig.js';
import { commandExists, stopProcess, type Teardowns, waitFor } from '../lib/netns.js';
import { addr, answers, type Topology, testZone } from '../lib/topology.js';
import { lookupLoad, runInNode } from '../sim/node.js';
import { removeFirmware, sleep, testNode } from './lib/harness.js';

t.setTimeout(240_000);
t.teardown(removeFirmware);

/** The renewed lease: documentation prefixes not used elsewhere in the topology. */
const renewed = {
  gw4: '203.0.113.17',
  node4: '203.0.113.18',
  net4: '203.0.113.16/28',
  gw6: '2001:db8:3::1',
  node6: '2001:db8:3::100',
  net6: '2001:db8:3::/64',
} as const;

/**
 * dnsperf as the VPN group (gid `gid`, no other groups) against `server`: its lookups go through the redirect to
 * wan-dns. Resolves with dnsperf's summary once it has run `seconds`.
 */
function dnsperf(t: Teardowns, topo: Topology, server: string, gid: number, seconds: number): Promise<string> {
  const data = join(topo.stateDir, `dnsperf-${server.includes(':') ? 6 : 4}`);
  writeFileSync(data, Array.from({ length: 200 }, (_, i) => `perf${i}.${testZone} TXT\n`).join(''));
  const child = spawn(
    'ip',
    ['netns', 'exec', topo.node.name, 'setpriv', `--regid=${gid}`, '--clear-groups', '--', 'dnsperf', '-s', server, '-d', data].concat([
      '-l',
      String(seconds),
      '-Q',
      '150',
      '-t',
      '3',
      '-c',
      '4',
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => stopProcess(child));
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString();
  });
  return new Promise((resolve) => child.on('exit', () => resolve(out)));
}

type Order = 'new-first' | 'old-first';

/** The lease change itself, in `order`, as netifd (new first) or udhcpc's deconfig/bound (old first) apply it. */
async function renumber(
  ns: Topology['node'],
  old: { v4?: string; v6?: string },
  order: Order,
  inGap: () => Promise<void> = async () => {},
): Promise<void> {
  const addNew = async (): Promise<void> => {
    // New address (noprefixroute), its prefix route and the default via the new gateway in table 1.
    ns.ip('addr', 'add', `${renewed.node4}/28`, 'dev', 'wan0', 'noprefixroute');
    ns.ip('route', 'replace', renewed.net4, 'dev', 'wan0', 'proto', 'kernel', 'scope', 'link', 'src', renewed.node4, 'table', '1');
    ns.ip('-6', 'addr', 'add', `${renewed.node6}/64`, 'dev', 'wan0', 'nodad', 'noprefixroute');
    ns.ip('-6', 'route', 'replace', renewed.net6, 'dev', 'wan0', 'proto', 'kernel', 'table', '1');
    if (order === 'new-first') await sleep(200);
    ns.ip('route', 'replace', 'default', 'via', renewed.gw4, 'dev', 'wan0', 'onlink', 'table', '1');
    ns.ip('-6', 'route', 'replace', 'default', 'via', renewed.gw6, 'dev', 'wan0', 'table', '1');
  };
  const dropOld = (): void => {
    // The old address and prefix route; IPv4's default via the old gateway goes with the address (the kernel
    // flushes it), IPv6's is withdrawn as odhcp6c does when the prefix's lifetime ends.
    ns.ip('addr', 'del', `${old.v4}/24`, 'dev', 'wan0');
    ns.try('ip', 'route', 'del', '192.0.2.0/24', 'table', '1');
    ns.ip('-6', 'addr', 'del', `${old.v6}/64`, 'dev', 'wan0');
    ns.try('ip', '-6', 'route', 'del', '2001:db8:1::/64', 'table', '1');
    if (order === 'old-first') ns.try('ip', '-6', 'route', 'del', 'default', 'table', '1');
  };
  if (order === 'new-first') {
    await addNew();
    await sleep(200);
    dropOld();
  } else {
    // udhcpc runs its script for deconfig, then for bound: no pause between them but the script's own work.
    dropOld();
    await inGap();
    await addNew();
  }
}

/** `name value` from `wan-dns --status` (a counter line such as `held 3`). */
function statusCounter(status: string, name: string): number {
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(status)?.[1] ?? Number.NaN);
}

for (const order of ['new-first', 'old-first'] as const) {
  t.test(`a WAN address change (${order}) under VPN-group DNS load: zero failed lookups, new source`, async (t) => {
    await renumberUnderLoad(t, order);
  });
}

async function renumberUnderLoad(t: Test, order: Order): Promise<void> {
  const node = await testNode(t);
  const { topo, gid } = node;
  const ns = topo.node;
  const old = { ...topo.wan.addresses };
  t.ok(old.v4 && old.v6, `the WAN starts on ${old.v4} and ${old.v6}`);
  for (const server of [addr.meshDns6, addr.meshDns4]) {
    t.same(topo.dig(server, topo.probeName('before'), { gid }).answers, [answers.wanA.txt], `VPN group @${server}: the WAN answers`);
  }

  // The ISP router gets the new prefix (its side of the renewed lease).
  topo.isp.ip('addr', 'add', `${renewed.gw4}/28`, 'dev', 'isp0');
  topo.isp.ip('-6', 'addr', 'add', `${renewed.gw6}/64`, 'dev', 'isp0', 'nodad');

  const wan0 = await topo.capture('wan0');
  const loads = [lookupLoad(t, topo, addr.meshDns6, gid), lookupLoad(t, topo, addr.meshDns4, gid), lookupLoad(t, topo, addr.meshDns6, gid)];
  const hasDnsperf = commandExists('dnsperf');
  if (!hasDnsperf) t.comment('dnsperf missing: the dig loops only');
  const perf = hasDnsperf ? [dnsperf(t, topo, addr.meshDns4, gid, 5), dnsperf(t, topo, addr.meshDns6, gid, 5)] : [];
  await sleep(500);
  // Old first, the gap lasts only as long as the script's own work, so whether the load puts a lookup into it is
  // chance on a busy machine. One lookup is put there on purpose: the bound step waits until wan-dns holds it (its
  // `held` counter), then the new address must answer it.
  let gapProbe: Promise<DigResult> | undefined;
  const inGap = async (): Promise<void> => {
    gapProbe = topo.digAsync(addr.meshDns4, topo.probeName('gap'), { gid });
    await waitFor(
      'wan-dns to hold the lookup in the gap',
      () => statusCounter(runInNode(node, 'wan-dns', ['--status']).output, 'held') > 0,
      2_000,
    );
  };
  await renumber(ns, old, order, order === 'old-first' ? inGap : undefined);
  const changedAt = loads.map((l) => l.current().total);
  await sleep(1500);
  const results = await Promise.all(loads.map((l) => l.stop()));

  const total = results.reduce((n, r) => n + r.total, 0);
  const after = results.reduce((n, r, i) => n + r.total - (changedAt[i] ?? 0), 0);
  const failures = results.reduce((n, r) => n + r.failures, 0);
  let perfCompleted = 0;
  let perfFailed = 0;
  t.ok(total > 10, `the load ran (${total} lookups)`);
  t.ok(after > 3, `and kept running after the change (${after} lookups)`);
  t.equal(failures, 0, `zero failed lookups (${[...new Set(results.flatMap((r) => r.failed))].join(', ')})`);
  for (const r of results) t.equal(r.last, answers.wanA.txt, 'the WAN server answers');
  for (const out of await Promise.all(perf)) {
    const completed = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const sent = Number(/Queries sent:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const noerror = Number(/Response codes:\s+NOERROR (\d+)/.exec(out)?.[1] ?? 0);
    perfCompleted += completed;
    perfFailed += sent - noerror;
    t.ok(completed > 200, `dnsperf as the VPN group completed ${completed} lookups`);
    t.match(out, /Queries lost:\s+0 /, 'dnsperf: none lost');
    t.match(out, /Response codes:\s+NOERROR \d+ \(100\.00%\)/, 'dnsperf: every answer NOERROR');
  }

  // After the change: queries leave from the new addresses only.
  const names = [addr.meshDns6, addr.meshDns4, addr.meshDns6, addr.meshDns4].map((server) => {
    const name = topo.probeName('renewed');
    t.same(topo.dig(server, name, { gid }).answers, [answers.wanA.txt], `after the change, VPN group @${server}: the WAN answers`);
    return name;
  });
  await wan0.stop();
  const queries = wan0.packets('dst port 53').filter((l) => names.some((n) => l.includes(n)));
  t.ok(queries.length >= names.length, `the capture on wan0 saw the queries after the change (${queries.length})`);
  const fromNew = queries.filter((l) => l.includes(` ${renewed.node4}.`) || l.includes(` ${renewed.node6}.`));
  t.equal(fromNew.length, queries.length, `every one left from ${renewed.node4} or ${renewed.node6}`);
  t.same(
    queries.filter((l) => l.includes(` ${old.v4}.`) || l.includes(` ${old.v6}.`)),
    [],
    'none from the old addresses',
  );
  t.equal(topo.unmarkedOnWan(), 0, 'no unmarked packet left through wan0');

  // The forwarder's own view (a witness of what it did, not of what reached the wire).
  const status = runInNode(node, 'wan-dns', ['--status']);
  t.comment(
    status.output
      .split('\n')
      .filter((l) => /^(route|route-watch|route-resends|route-failovers|route-servfail|servfail|held|held-servfail|held-max-ms) /.test(l))
      .join(' | '),
  );
  const held = statusCounter(status.output, 'held');
  if (order === 'old-first') {
    t.ok(held > 0, `lookups in the gap were held (${held}), not failed`);
    t.same((await gapProbe)?.answers, [answers.wanA.txt], 'the lookup held in the gap got the WAN answer');
  }
  t.comment(
    `renumber ${order}: failed ${failures + perfFailed} of ${total + perfCompleted} lookups (dig loops ${failures} of ${total}, dnsperf ${perfFailed} of ${perfCompleted}), held ${held}, longest hold ${statusCounter(status.output, 'held-max-ms')} ms`,
  );
}
