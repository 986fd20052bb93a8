// tier: root: network namespaces, SO_MARK or firewall rules
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { commandExists, isRoot, run } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { bin, buildTopology, defaultDevices, portDown, table1, writeConfig } from './lib/topology.js';

requireParts(!isRoot() ? 'needs root for network namespaces' : !commandExists('ping') ? 'needs iputils ping' : false);

t.test('equal metrics: weighted multipath in table 1, then single path when one is cut', async (t) => {
  const topo = buildTopology(t);
  const root = writeConfig(topo, { metricA: 1, metricB: 1, weightA: 3, weightB: 1 });
  const statusFile = join(topo.dir, 'status.json');
  const once = () => topo.node.try(process.execPath, bin, 'once', '--json', '--root', root, '--status-file', statusFile);
  const r = once();
  t.equal(r.status, 0, r.stderr);
  const ours = table1(topo.node).find((x) => x.dst === 'default' && x.protocol === '78');
  t.same(
    ours?.nexthops?.map((h) => [h.dev, h.gateway, h.weight]),
    [
      ['wa', 'fe80::a1', 3],
      ['wb', '2001:db8:b::1', 1],
    ],
    'ip -j -6 route show table 1 carries the weights',
  );
  const status = JSON.parse(r.stdout) as { choices: { reason: string }[] };
  t.match(status.choices[0]?.reason, /weighted multipath: wana \(metric 1, weight 3\) and wanb \(metric 1, weight 1\)/);
  const saved = JSON.parse(readFileSync(join(topo.dir, 'last-good.json'), 'utf8')) as { members: unknown[] };
  t.equal(saved.members.length, 2, 'both members persisted as last good');

  // Flows spread by weight: with the L4 hash, 400 UDP flows' kernel lookups land about 3:1 on wa:wb.
  topo.node.sysctl('net.ipv6.fib_multipath_hash_policy', '1');
  const count: Record<string, number> = {};
  // One `ip -batch` for all 400 lookups: one process instead of 400.
  const batch = Array.from({ length: 400 }, (_, i) => `route get 2001:db8:ee::1 mark 1 ipproto udp sport ${10000 + i} dport 53`).join('\n');
  const answers = run('ip', ['-n', topo.node.name, '-6', '-j', '-batch', '-'], `${batch}\n`).trim().split('\n');
  for (const line of answers) {
    const [hop] = JSON.parse(line) as { dev: string }[];
    if (hop) count[hop.dev] = (count[hop.dev] ?? 0) + 1;
  }
  const wa = count.wa ?? 0;
  const wb = count.wb ?? 0;
  t.equal(wa + wb, 400, 'every flow routed through one of the two uplinks');
  t.ok(wb > 40 && wa > 2 * wb, `flows spread about 3:1 (wa ${wa}, wb ${wb})`);

  const again = once();
  t.equal(again.status, 0);
  t.notMatch(again.stderr, /replace default table 1/, 'a steady state writes nothing');

  portDown(topo, 'b');
  t.equal(once().status, 0);
  t.same(defaultDevices(topo.node), ['wa'], 'single path via wa');
  portDown(topo, 'a');
  const none = once();
  t.equal(none.status, 1, 'exit 1 when failing closed');
  t.same(defaultDevices(topo.node), [], 'no default of ours: the floor fails closed');
  t.match(topo.node.exec(process.execPath, bin, 'status', '--status-file', statusFile), /none of ours/);
  const saved2 = JSON.parse(readFileSync(join(topo.dir, 'last-good.json'), 'utf8')) as { members: { device: string }[] };
  t.same(
    saved2.members.map((m) => m.device),
    ['wa'],
    'losing every uplink keeps the last good one',
  );
});

t.test('boot restore: a stale gateway is not restored, a valid one is', async (t) => {
  const topo = buildTopology(t);
  // No gateway in uci and none learned: only the saved one could bring wana up before probes do.
  const root = writeConfig(topo, { gatewayA: null, metricB: 1 });
  portDown(topo, 'b');
  const state = join(topo.dir, 'last-good.json');
  const restore = () => topo.node.try(process.execPath, bin, 'restore', '--root', root, '--status-file', join(topo.dir, 's.json'));

  writeFileSync(state, JSON.stringify({ version: 1, members: [{ uplink: 'wana', family: 'inet6', device: 'wa', gateway: 'fe80::dead' }] }));
  const stale = restore();
  t.equal(stale.status, 1, 'not restored');
  t.match(stale.stdout, /restore wana: not restored: gateway fe80::dead did not answer on wa/);
  t.same(defaultDevices(topo.node), [], 'no default was installed blindly');
  t.notOk(
    table1(topo.node).some((r) => r.gateway === 'fe80::dead'),
    'the stale gateway appears nowhere in table 1',
  );

  writeFileSync(state, JSON.stringify({ version: 1, members: [{ uplink: 'wana', family: 'inet6', device: 'wa', gateway: 'fe80::a1' }] }));
  const valid = restore();
  t.equal(valid.status, 0, valid.stderr);
  t.match(valid.stdout, /restore wana: restored: gateway fe80::a1 answered on wa/);
  t.match(
    table1(topo.node).find((r) => r.dst === 'default' && r.protocol === '78'),
    { gateway: 'fe80::a1', dev: 'wa' },
  );

  writeFileSync(
    state,
    JSON.stringify({ version: 1, members: [{ uplink: 'wanb', family: 'inet6', device: 'wb', gateway: '2001:db8:b::1' }] }),
  );
  t.match(restore().stdout, /not restored: wb has no carrier/);
  writeFileSync(state, JSON.stringify({ version: 1, members: [{ uplink: 'gone', family: 'inet6', device: 'wz', gateway: 'fe80::1' }] }));
  t.match(restore().stdout, /not restored: no enabled inet6 uplink gone on wz/);
  writeFileSync(state, '{"version": 2}');
  const bad = restore();
  t.equal(bad.status, 2);
  t.match(bad.stderr, /last-good\.json: expected version 1, got 2/);
  t.ok(existsSync(state));
});
