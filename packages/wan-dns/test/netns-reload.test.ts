// tier: root: network namespaces, SO_MARK or firewall rules
/** A resolv file rewritten under load (and SIGHUP) loses no query and the new servers are used. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@meshwan/uci';
import t from 'tap';
import { commandExists, stopProcess } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { createTopo, forwarderArgs, missingPart, resolverV4, resolverV6, startWanDns, status } from './lib/topo.js';

requireParts(missingPart, !commandExists('dnsperf') && 'needs dnsperf');

// Namespaces, NSD and real timeouts on a shared, busy machine: more than tap's default 30 s per file.
t.setTimeout(600_000);

t.test('resolv file rewritten (and SIGHUP) under load: zero failed queries, new servers used', async (t) => {
  const topo = await createTopo(t);
  const resolv = join(topo.dir, 'resolv.conf');
  writeFileAtomic(resolv, `nameserver ${resolverV4}\n`);
  const control = join(topo.dir, 'control');
  const run = await startWanDns(t, topo, forwarderArgs({ resolvFile: resolv, root: join(topo.dir, 'none'), control }));
  const queries = join(topo.dir, 'queries');
  writeFileSync(queries, Array.from({ length: 50 }, (_, i) => `n${i}.example.test A\nwho.example.test TXT\n`).join(''));
  const perf = spawn(
    'ip',
    ['netns', 'exec', topo.node.name, 'dnsperf', '-s', '127.0.0.1', '-p', '54', '-d', queries, '-l', '4', '-Q', '400', '-t', '3'],
    { stdio: 'pipe' },
  );
  t.teardown(() => stopProcess(perf));
  let out = '';
  perf.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const done = new Promise<void>((resolve) => perf.on('exit', () => resolve()));
  await new Promise((r) => setTimeout(r, 1000));
  writeFileAtomic(resolv, `# from RA\nnameserver ${resolverV6}\n`);
  await new Promise((r) => setTimeout(r, 1000));
  run.child.kill('SIGHUP');
  await new Promise((r) => setTimeout(r, 500));
  writeFileAtomic(resolv, `nameserver ${resolverV4}\nnameserver ${resolverV6}\n`);
  await done;
  const completed = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  t.ok(completed > 1000, `dnsperf completed ${completed} queries`);
  t.match(out, /Queries lost:\s+0 /, 'none lost');
  t.match(out, /Response codes:\s+NOERROR \d+ \(100\.00%\)/, 'all NOERROR');
  const report = JSON.parse(status(topo, control)) as {
    counters: { reloads: number; servfail: number };
    servers: { server: string; answers: number }[];
  };
  t.ok(report.counters.reloads >= 3, 'two file changes and a SIGHUP');
  t.equal(report.counters.servfail, 0);
  t.same(
    report.servers.map((s) => s.server),
    [`${resolverV4}:53`, `[${resolverV6}]:53`],
  );
  t.ok((report.servers[1]?.answers ?? 0) > 0, 'the IPv6 resolver from the reload answered');
  t.match(run.output(), /upstream servers from .*resolv.conf: \[2001:db8:53::53\]:53/);
});
