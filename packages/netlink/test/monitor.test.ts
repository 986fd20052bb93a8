// tier: root: network namespaces, SO_MARK or firewall rules
import { spawn } from 'node:child_process';
import t from 'tap';
import { run, stopProcess, type Teardowns, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { Monitor, type MonitorEvent, type Route, routeKey } from '../src/index.js';
import { fixture, missingPart } from './helpers.js';

// the 50k-event burst and its re-dumps take a while on a busy 2-core machine
t.setTimeout(240_000);

function routeSet(routes: Route[]): string[] {
  return routes.map((r) => `${routeKey(r)} ${r.type} ${r.gateway ?? ''} ${r.oif ?? ''} ${r.flags}`).sort();
}

function startMonitor(t: Teardowns, netns: string, rcvbufBytes?: number): { m: Monitor; events: MonitorEvent[] } {
  const m = Monitor.start({ netns, rcvbufBytes });
  t.teardown(() => m.close());
  const events: MonitorEvent[] = [];
  m.on((e) => events.push(e));
  return { m, events };
}

requireParts(missingPart);

t.test('synced, then typed new/del events for links, addresses, routes and rules', async (t) => {
  const { ns, nl, netnsPath } = fixture(t, 'mon');
  const { m, events } = startMonitor(t, netnsPath);
  await m.ready;
  t.equal(events[0]?.type, 'synced');
  t.ok(m.cache.link('va'));
  await waitFor('cache equals a fresh dump', () => routeSet(m.cache.listRoutes()).join() === routeSet(nl.listRoutes()).join());
  t.same(routeSet(m.cache.listRoutes()), routeSet(nl.listRoutes()), 'the cache equals ip route');

  ns.ip('-6', 'route', 'add', '2001:db8:1::/48', 'via', '2001:db8::2', 'table', '1000', 'metric', '5');
  ns.ip('-6', 'rule', 'add', 'priority', '100', 'fwmark', '0x1/0x1', 'table', '1');
  ns.ip('-6', 'addr', 'add', '2001:db8:9::1/64', 'dev', 'vb', 'nodad');
  await waitFor('new events', () => events.some((e) => e.type === 'new' && e.kind === 'rule' && e.rule.priority === 100));
  t.ok(events.find((e) => e.type === 'new' && e.kind === 'route' && e.route.table === 1000 && e.route.gateway === '2001:db8::2'));
  t.ok(events.find((e) => e.type === 'new' && e.kind === 'address' && e.address.address === '2001:db8:9::1'));
  t.equal(m.cache.lookup('2001:db8:1::7', { mark: 1 }).verdict, 'unreachable', 'table 1 does not have it');
  t.match(m.cache.lookup('2001:db8:1::7', { mark: 0 }), { verdict: 'unreachable', code: 'ENETUNREACH' });

  ns.ip('-6', 'route', 'del', '2001:db8:1::/48', 'table', '1000');
  ns.ip('-6', 'rule', 'del', 'priority', '100');
  ns.ip('-6', 'addr', 'del', '2001:db8:9::1/64', 'dev', 'vb');
  await waitFor('del events', () => events.some((e) => e.type === 'del' && e.kind === 'rule'));
  t.ok(events.find((e) => e.type === 'del' && e.kind === 'route' && e.route.table === 1000));
  await waitFor('address del', () => events.some((e) => e.type === 'del' && e.kind === 'address' && e.address.address === '2001:db8:9::1'));
  t.same(m.cache.listRules(6), nl.listRules(6));

  // carrier apart from admin state: taking vb down removes va's carrier, va stays administratively up
  events.length = 0;
  ns.ip('link', 'set', 'vb', 'down');
  await waitFor('carrier event', () => events.some((e) => e.type === 'carrier' && e.link.name === 'va'));
  t.match(
    events.find((e) => e.type === 'carrier' && e.link.name === 'va'),
    { carrier: false, link: { adminUp: true } },
  );
  t.ok(events.find((e) => e.type === 'admin' && e.link.name === 'vb' && !e.up));
  t.notOk(events.find((e) => e.type === 'admin' && e.link.name === 'va'));
});

t.test('a link going down: IPv4 route removals are synthesized so the cache equals ip route', async (t) => {
  const { ns, nl, netnsPath } = fixture(t, 'down');
  ns.ip('route', 'add', '198.51.100.0/24', 'via', '192.0.2.2', 'table', '300');
  ns.ip('route', 'add', '203.0.113.0/24', 'dev', 'va');
  const { m, events } = startMonitor(t, netnsPath);
  await m.ready;
  t.equal(m.cache.listRoutes({ table: 300 }).length, 1);
  ns.ip('link', 'set', 'va', 'down');
  await waitFor('synthesized removal', () => events.some((e) => e.type === 'del' && e.kind === 'route' && e.route.table === 300));
  const removal = events.find((e) => e.type === 'del' && e.kind === 'route' && e.route.dst === '203.0.113.0');
  t.match(removal, { synthesized: true });
  await waitFor('cache equals a fresh dump', () => routeSet(m.cache.listRoutes()).join() === routeSet(nl.listRoutes()).join());
  t.same(m.cache.listRoutes({ family: 4, table: 300 }), []);
  t.ok(events.find((e) => e.type === 'admin' && e.link.name === 'va' && e.up === false));
});

t.test('50k route adds and deletes with a tiny receive buffer: ENOBUFS, re-dump, cache exact, still alive', async (t) => {
  const { ns, nl, netnsPath } = fixture(t, 'burst');
  const { m, events } = startMonitor(t, netnsPath, 4096);
  await m.ready;
  const lines: string[] = [];
  for (let i = 0; i < 34_000; i++)
    lines.push(`route add 2001:db8:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}::/64 via 2001:db8::2 table 7`);
  for (let i = 0; i < 32_000; i += 2) lines.push(`route del 2001:db8:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}::/64 table 7`);
  // ip -batch runs as a child so this process keeps reading events while the kernel sends them
  const child = spawn('ip', ['-6', '-n', ns.name, '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  child.stdin.on('error', () => {}); // ip exiting early shows in its exit code
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdin.end(`${lines.join('\n')}\n`);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 0, stderr);
  const fresh = () => routeSet(nl.listRoutes());
  await waitFor('cache equals a fresh dump', () => routeSet(m.cache.listRoutes()).join() === fresh().join(), 30_000, 200);
  t.ok(m.resyncs > 0, `ENOBUFS forced ${m.resyncs} re-dumps`);
  t.ok(events.some((e) => e.type === 'resynced'));
  t.equal(lines.length, 50_000, 'a burst of 50k route changes');
  t.equal(m.cache.listRoutes({ table: 7 }).length, 18_000);
  t.equal(process.exitCode ?? 0, 0, 'the process is still alive and well');
});

t.test('a dump interrupted by concurrent changes (NLM_F_DUMP_INTR) is retried and complete', async (t) => {
  const { ns, nl } = fixture(t, 'intr');
  const adds: string[] = [];
  for (let i = 0; i < 1500; i++) adds.push(`addr add 2001:db8:1::${i.toString(16)}/128 dev vb nodad`);
  run('ip', ['-6', '-n', ns.name, '-batch', '-'], `${adds.join('\n')}\n`);
  // another process changes addresses while we dump them (each dump part is built when we read); one `ip`
  // per change keeps the rate low enough that a retried dump can finish
  const child = ns.spawn(t, 'sh', [
    '-c',
    'while :; do ip -6 addr add 2001:db8:2::1/128 dev va nodad; ip -6 addr del 2001:db8:2::1/128 dev va; done',
  ]);
  let dumps = 0;
  let complete = true;
  const vb = nl.ifindex('vb');
  while (nl.socket.interruptedDumps === 0 && dumps < 2000) {
    complete &&= nl.listAddresses(6).filter((a) => a.index === vb && a.address.startsWith('2001:db8:1::')).length === 1500;
    dumps++;
    await new Promise((r) => setImmediate(r));
  }
  await stopProcess(child);
  t.ok(nl.socket.interruptedDumps > 0, `the kernel flagged NLM_F_DUMP_INTR within ${dumps} dumps; each was retried`);
  t.ok(complete, 'every dump returned all 1500 addresses');
});
