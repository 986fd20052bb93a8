import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { choose } from '../src/chooser.js';
import { parseConfig } from '../src/config.js';
import { desiredState, type UplinkRuntime } from '../src/desired.js';
import { assignDns, parseResolv, readResolv } from '../src/dns.js';
import { learnGateway } from '../src/engine.js';
import { StateFileError } from '../src/errors.js';
import { decodeLastGood, readLastGood, sameMembers, writeLastGood } from '../src/lastgood.js';
import { parsePingOutput, probeCommand, runProbe } from '../src/probe.js';

const config = parseConfig([
  { name: 'wan6', type: 'interface', options: { device: 'eth1', dns_server: ['2001:db8::53'] } },
  { name: 'wwan', type: 'interface', options: { device: 'wwan0', metric: '2' } },
  { name: 'off', type: 'interface', options: { device: 'eth9', enabled: '0' } },
]);

t.test('resolv.conf: nameservers attributed by netifd-style interface comments', async (t) => {
  const text =
    'search lan\nnameserver 2001:db8::1\n# Interface wwan\nnameserver 2001:DB8::2\nnameserver fe80::1%eth1\n# Interface eth1\nnameserver 2001:db8::3\n';
  t.same(parseResolv(text), [
    { server: '2001:db8::1', iface: undefined },
    { server: '2001:db8::2', iface: 'wwan' },
    { server: 'fe80::1', iface: 'wwan' },
    { server: '2001:db8::3', iface: 'eth1' },
  ]);
  t.same(assignDns(config.uplinks, `${text}# Interface wan6\nnameserver 2001:db8::53\n`), [
    { server: '2001:db8::53', uplink: 'wan6' },
    { server: '2001:db8::2', uplink: 'wwan' },
    { server: 'fe80::1', uplink: 'wwan' },
    { server: '2001:db8::3', uplink: 'wan6' },
  ]);
  t.equal(readResolv('/nonexistent/resolv.conf'), '');
});

t.test('desired state: default, probe paths, DNS host routes', async (t) => {
  const [wan6, wwan, off] = config.uplinks;
  if (!wan6 || !wwan || !off) throw new Error('fixture');
  const runtime: UplinkRuntime[] = [
    { config: wan6, index: 0, state: 'down', gateway: 'fe80::1', deviceUp: true },
    { config: wwan, index: 1, state: 'up', gateway: undefined, deviceUp: true },
    { config: off, index: 2, state: 'down', gateway: undefined, deviceUp: true },
  ];
  const candidates = runtime.map((r) => ({ ...r.config, state: r.state, gateway: r.gateway }));
  const d = desiredState({
    globals: config.globals,
    table: 1,
    uplinks: runtime,
    choices: [choose(6, candidates)],
    dns: [
      { server: '2001:db8::53', uplink: 'wan6' },
      { server: '2001:db8::54', uplink: 'wwan' },
      { server: '192.0.2.53', uplink: 'wwan' },
      { server: '2001:db8::55', uplink: 'nope' },
    ],
  });
  t.same(
    d.routes.map((r) => [r.table, r.dst, r.type, r.nexthops.map((h) => `${h.gateway ?? '-'}@${h.device}`).join(',')]),
    [
      [1, 'default', 'unicast', '-@wwan0'],
      [200, 'default', 'unicast', 'fe80::1@eth1'],
      [201, 'default', 'unicast', '-@wwan0'],
      [1, '2001:db8::53/128', 'unreachable', ''],
      [1, '2001:db8::54/128', 'unicast', '-@wwan0'],
    ],
  );
  t.same(
    d.rules.map((r) => [r.priority, r.fwmark, r.fwmask, r.table]),
    [
      [8900, 0x100, 0xff00, 200],
      [8900, 0x200, 0xff00, 201],
    ],
  );
});

t.test('learnGateway reads netifd defaults by device, single and multipath', async (t) => {
  const [wan6] = config.uplinks;
  if (!wan6) throw new Error('fixture');
  const base = {
    family: 6 as const,
    table: 254,
    type: 'unicast' as const,
    dst: '::',
    dstLength: 0,
    srcLength: 0,
    tos: 0,
    metric: 1024,
    protocol: 4,
    scope: 0,
    flags: 0,
    unknown: [],
  };
  t.equal(learnGateway([{ ...base, oif: 3, gateway: 'fe80::9' }], wan6, 3), 'fe80::9');
  t.equal(
    learnGateway(
      [
        {
          ...base,
          nexthops: [
            { oif: 4, gateway: 'fe80::4', weight: 1, flags: 0 },
            { oif: 3, gateway: 'fe80::3', weight: 1, flags: 0 },
          ],
        },
      ],
      wan6,
      3,
    ),
    'fe80::3',
  );
  t.equal(learnGateway([{ ...base, family: 4, oif: 3, gateway: '192.0.2.1' }], wan6, 3), undefined);
  t.equal(learnGateway([], wan6, undefined), undefined);
});

t.test('last-good file: atomic write, strict read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uplinks-lg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'sub', 'lg.json');
  t.equal(readLastGood(path), undefined, 'missing file: nothing to restore');
  const members = [{ uplink: 'wan6', family: 6 as const, device: 'eth1', gateway: 'fe80::1' }];
  writeLastGood(path, members, new Date('2026-01-01T00:00:00Z'));
  t.same(readLastGood(path), { version: 1, members, savedAt: '2026-01-01T00:00:00.000Z' });
  t.match(readFileSync(path, 'utf8'), /"gateway": "fe80::1"/);
  t.ok(sameMembers(members, [...members]));
  t.notOk(sameMembers(members, []));
  for (const [text, re] of [
    ['nope', /not JSON/],
    ['[]', /expected version 1/],
    ['null', /expected an object/],
    ['{"version":1,"members":[{"uplink":"x"}]}', /members: expected/],
    ['{"version":1,"members":[{"uplink":"x","family":"inet6","device":"d","gateway":"; rm -rf"}]}', /members: expected/],
  ] as const) {
    t.throws(() => decodeLastGood(text, 'f'), re);
  }
  writeFileSync(join(dir, 'bad.json'), '{');
  t.throws(() => readLastGood(join(dir, 'bad.json')), StateFileError);
  t.throws(() => readLastGood(dir), /cannot read/);
  t.throws(() => writeLastGood(join(dir, 'bad.json', 'x'), members), /cannot write/);
});

t.test('probe: command line and ping output', async (t) => {
  const req = { uplink: 'wan6', family: 6 as const, device: 'eth1', target: '2001:db8::1', mark: 256, timeoutMs: 500, count: 1 };
  t.same(probeCommand(req), ['ping', '-6', '-n', '-q', '-c', '1', '-W', '0.5', '-m', '256', '-I', 'eth1', '2001:db8::1']);
  t.same(probeCommand({ ...req, family: 4, count: 3, timeoutMs: 1000, target: '192.0.2.1' }, '/bin/ping').slice(0, 10), [
    '/bin/ping',
    '-4',
    '-n',
    '-q',
    '-c',
    '3',
    '-i',
    '0.2',
    '-W',
    '1',
  ]);
  t.same(
    parsePingOutput('1 packets transmitted, 1 received, 0% packet loss, time 0ms\nrtt min/avg/max/mdev = 0.041/0.052/0.06/0.000 ms\n'),
    { received: 1, rttMs: 0.052 },
  );
  t.same(parsePingOutput('1 packets transmitted, 0 received, 100% packet loss'), { received: 0, rttMs: undefined });
  await t.rejects(runProbe(req, '/nonexistent/ping'), /probe wan6: \/nonexistent\/ping .*ENOENT/);
  const fake = join(mkdtempSync(join(tmpdir(), 'uplinks-ping-')), 'ping');
  writeFileSync(fake, '#!/bin/sh\necho "ping: connect: Network is unreachable" >&2\nexit 2\n', { mode: 0o755 });
  t.match(await runProbe(req, fake), { ok: false, detail: 'connect: Network is unreachable' });
  writeFileSync(fake, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  t.match(await runProbe(req, fake), { ok: false, detail: 'no reply within 500 ms' });
  writeFileSync(fake, '#!/bin/sh\necho "1 packets transmitted, 1 received"\n', { mode: 0o755 });
  t.match(await runProbe(req, fake), { ok: true, detail: 'rtt ? ms' });
});
