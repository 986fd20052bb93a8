import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { logLine, renderStatus, runUplinksCli } from '../src/cli.js';
import { parseConfig } from '../src/config.js';
import { judgeStatusFile, pidAlive } from '../src/freshness.js';
import { initialHealth } from '../src/health.js';
import type { StatusFile } from '../src/render.js';
import { statusWriter } from '../src/render.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => {
    out += s;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => {
    err += s;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await runUplinksCli(args), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

t.test('usage errors exit 2 and name the problem', async (t) => {
  for (const [args, re] of [
    [[], /missing command/],
    [['frobnicate'], /unknown command frobnicate/],
    [['status', '--bogus'], /unknown option --bogus/],
    [['status', 'extra'], /unexpected argument extra/],
    [['status', '--root'], /--root needs a value/],
  ] as const) {
    const r = await cli([...args]);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, re);
    t.match(r.err, /usage: meshwan-uplinks daemon\|once\|restore\|status/);
  }
});

t.test('a bad config exits 2 with file, section and option', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uplinks-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'etc/config'), { recursive: true });
  writeFileSync(join(dir, 'etc/config/meshwan-uplinks'), "config interface 'wan'\n\toption device 'eth1'\n\toption weight '0'\n");
  const r = await cli(['once', '--root', dir, '--status-file', join(dir, 's.json')]);
  t.equal(r.code, 2);
  t.match(r.err, new RegExp(`${dir}/etc/config/meshwan-uplinks: wan\\.weight: expected an integer 1\\.\\.256, got "0"`));
});

t.test('status without a daemon exits 1 and says why; with a file it renders it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uplinks-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const missing = await cli(['status', '--status-file', join(dir, 'none.json')]);
  t.equal(missing.code, 1);
  t.match(missing.err, /no status at .*none\.json: is the daemon running\?/);
  const s: StatusFile = {
    table: 1,
    uplinks: [
      {
        name: 'wan6',
        family: 'inet6',
        device: 'eth1',
        enabled: true,
        health: { ...initialHealth(), carrier: true, state: 'up', reason: 'up: 3 probe rounds answered in a row (up=3)', rounds: 3 },
        gateway: 'fe80::1',
        gatewaySource: 'route',
        metric: 1,
        weight: 3,
        probeMark: '0x100',
        lastProbe: [{ target: '2001:db8::1', ok: true, rttMs: 0.5, detail: 'rtt 0.5 ms' }],
      },
    ],
    choices: [{ family: 'inet6', members: [{ name: 'wan6', device: 'eth1', gateway: 'fe80::1', weight: 3 }], reason: 'wan6 is best' }],
    routes: ['default table 1 metric 10 via fe80::1 dev eth1'],
    restore: [{ uplink: 'wan6', device: 'eth1', gateway: 'fe80::1', restored: true, reason: 'restored: gateway fe80::1 answered on eth1' }],
    errors: ['netlink: something'],
    updatedAt: new Date().toISOString(),
    writer: { pid: process.pid, command: 'daemon', intervalMs: 500 },
  };
  const file = join(dir, 's.json');
  writeFileSync(file, JSON.stringify(s));
  const text = await cli(['status', '--status-file', file]);
  t.equal(text.code, 0, text.err);
  t.equal(text.err, '');
  t.equal(text.out, renderStatus(s));
  t.match(text.out, /uplink wan6 \(inet6, dev eth1, metric 1, weight 3, probe mark 0x100\): up, via fe80::1 \(route\)/);
  t.match(text.out, /probe 2001:db8::1: answered, rtt 0\.5 ms/);
  t.match(text.out, /default \(inet6\): wan6\n {2}why: wan6 is best/);
  t.match(text.out, /restore wan6: restored/);
  t.match(text.out, /error: netlink: something/);
  const json = await cli(['status', '--json', '--status-file', file]);
  t.same(JSON.parse(json.out), s);
  writeFileSync(file, JSON.stringify({ ...s, updatedAt: '2026-01-01T00:00:00.000Z' }));
  const stale = await cli(['status', '--status-file', file]);
  t.equal(stale.code, 0, 'a stale file: shown and flagged');
  t.match(stale.out, /uplink wan6/);
  t.match(stale.err, /s\.json: STALE: updated [\d.]+ s ago, more than 10 s \(5 probe intervals\)/);
});

t.test('freshness: running, stale by age, by a gone writer, by a one-off writer, without a writer', async (t) => {
  const now = new Date('2026-12-01T06:00:00.000Z');
  const base = { table: 1, uplinks: [], choices: [], routes: [], restore: [], errors: [], updatedAt: '2026-12-01T05:59:59.000Z' };
  const daemon = { pid: 4242, command: 'daemon' as const, intervalMs: 500 };
  const alive = (pid: number) => pid === 4242;
  t.same(judgeStatusFile({ ...base, writer: daemon }, now, alive), {
    fresh: true,
    ageSeconds: 1,
    summary: 'running: pid 4242, updated 1 s ago',
  });
  t.match(judgeStatusFile({ ...base, updatedAt: '2026-12-01T05:59:00.000Z', writer: daemon }, now, alive), {
    fresh: false,
    summary: 'STALE: updated 60 s ago, more than 10 s (5 probe intervals)',
  });
  t.match(
    judgeStatusFile({ ...base, updatedAt: '2026-12-01T05:58:00.000Z', writer: { ...daemon, intervalMs: 30_000 } }, now, alive),
    {
      fresh: true,
    },
    'slow probes: 5 intervals of 30 s',
  );
  t.match(judgeStatusFile({ ...base, writer: { ...daemon, pid: 1 } }, now, alive), { summary: 'STALE: its writer (pid 1) is gone' });
  t.match(judgeStatusFile({ ...base, writer: { ...daemon, command: 'once' } }, now, alive), { summary: /one-off `meshwan-uplinks once`/ });
  t.match(judgeStatusFile(base, now, alive), { summary: /does not say which process/ });
  t.match(judgeStatusFile({ ...base, updatedAt: 'never', writer: daemon }, now, alive), {
    ageSeconds: undefined,
    summary: /updated \? s ago/,
  });
  t.equal(pidAlive(process.pid), true);
  t.equal(pidAlive(0), false);
  t.equal(pidAlive(2 ** 22 + 1), false);
});

t.test('statusWriter: pid, command and the shortest enabled interval; renderStatus names the writer', async (t) => {
  const config = parseConfig([
    { name: 'a', type: 'interface', options: { device: 'a', interval: '2' } },
    { name: 'b', type: 'interface', options: { device: 'b', interval: '0.5' } },
    { name: 'c', type: 'interface', options: { device: 'c', interval: '0.1', enabled: '0' } },
  ]);
  t.same(statusWriter('daemon', config, 42), { pid: 42, command: 'daemon', intervalMs: 500 });
  t.equal(statusWriter('once', parseConfig([])).intervalMs, 0);
  const s = { table: 1, uplinks: [], choices: [], routes: [], restore: [], errors: [], updatedAt: 'T' };
  t.match(
    renderStatus({ ...s, writer: { pid: 42, command: 'daemon', intervalMs: 500 } }),
    /updated T by meshwan-uplinks daemon \(pid 42\)/,
  );
  t.match(renderStatus(s), /updated T\n$/);
});

t.test('log lines carry their time in ISO 8601 with milliseconds, after the tag', async (t) => {
  t.equal(logLine('wana: down', new Date(Date.UTC(2026, 11, 7, 13, 0, 0, 42))), 'meshwan-uplinks: 2026-12-07T13:00:00.042Z wana: down\n');
});
