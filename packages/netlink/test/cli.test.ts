// tier: root: network namespaces, SO_MARK or firewall rules
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { runCli } from '../../../test/lib/cli-io.js';
import { waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { runNetlinkCli } from '../src/cli.js';
import { fixture, missingPart } from './helpers.js';

const cli = (...args: string[]) => runCli(runNetlinkCli, args);

requireParts(missingPart);

t.test('routes and rules print what ip route / ip rule print', async (t) => {
  const { ns } = fixture(t, 'cli');
  ns.ip('-6', 'route', 'add', '2001:db8:1::/48', 'via', '2001:db8::2', 'table', '1000', 'metric', '5', 'proto', 'static');
  ns.ip('-6', 'route', 'add', 'unreachable', 'default', 'table', '1', 'metric', '65535');
  ns.ip(
    '-6',
    'route',
    'add',
    '2001:db8:5::/48',
    'nexthop',
    'via',
    '2001:db8::2',
    'dev',
    'va',
    'weight',
    '3',
    'nexthop',
    'via',
    '2001:db8::3',
    'dev',
    'va',
  );
  ns.ip('route', 'add', '198.51.100.0/24', 'via', '192.0.2.2', 'table', '300');
  ns.ip('route', 'add', 'prohibit', '203.0.113.0/24');
  ns.ip('-6', 'rule', 'add', 'priority', '100', 'fwmark', '0x1/0x1', 'table', '1');
  ns.ip('-6', 'rule', 'add', 'priority', '200', 'not', 'to', '2001:db8:1::/48', 'table', '1000', 'suppress_prefixlength', '0');
  ns.ip('rule', 'add', 'priority', '10', 'iif', 'lo', 'goto', '32766');
  ns.ip('rule', 'add', 'priority', '11', 'fwmark', '0x4', 'blackhole');
  const norm = (s: string) =>
    s
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l && !/ (fe80|ff00)::/.test(l))
      .join('\n');
  for (const [ours, theirs] of [
    [
      ['-n', ns.name, 'routes', '--table', 'all', '-6'],
      ['-6', 'route', 'show', 'table', 'all'],
    ],
    [
      ['-n', ns.name, 'routes', '--table', 'all', '-4'],
      ['-4', 'route', 'show', 'table', 'all'],
    ],
    [
      ['-n', ns.name, 'routes', '--table', '1000'],
      ['-6', 'route', 'show', 'table', '1000'],
    ],
    [
      ['-n', ns.name, 'rules', '-4'],
      ['-4', 'rule'],
    ],
    [
      ['-n', ns.name, 'rules', '-6'],
      ['-6', 'rule'],
    ],
  ] as const) {
    const r = await cli(...ours);
    t.equal(r.code, 0);
    t.equal(norm(r.out), norm(ns.ip(...theirs)), ours.join(' '));
  }
  const json = await cli('-n', ns.name, 'routes', '--table', '1000', '--json');
  t.match(JSON.parse(json.out), [{ table: 1000, dev: 'va', gateway: '2001:db8::2' }]);
  const rj = await cli('-n', ns.name, 'rules', '--json', '-6');
  t.match(JSON.parse(rj.out)[1], { priority: 100, fwmark: 1, fwmask: 1 });
});

t.test('get answers from the cache like ip route get, and names the rule', async (t) => {
  const { ns } = fixture(t, 'cliget');
  ns.ip('-6', 'route', 'add', '2001:db8:1::/48', 'via', '2001:db8::2', 'table', '1000');
  ns.ip('-6', 'route', 'add', 'unreachable', 'default', 'table', '1', 'metric', '65535');
  ns.ip('-6', 'rule', 'add', 'priority', '100', 'fwmark', '0x1/0x1', 'table', '1');
  ns.ip('-6', 'rule', 'add', 'priority', '200', 'to', '2001:db8:1::/48', 'table', '1000');
  const ok = await cli('-n', ns.name, 'get', '2001:db8:1::1');
  t.equal(ok.code, 0);
  t.match(
    ok.out,
    /^2001:db8:1::1 via 2001:db8::2 dev va table 1000 metric 1024 pref medium\n {4}rule 200:\tfrom all to 2001:db8:1::\/48 lookup 1000\n {4}route 2001:db8:1::\/48 /,
  );
  const marked = await cli('-n', ns.name, 'get', '2001:db8:1::1', '--mark', '0x1');
  t.equal(marked.code, 2);
  t.match(
    marked.err,
    'get 2001:db8:1::1: No route to host (EHOSTUNREACH), rule 100:\tfrom all fwmark 0x1/0x1 lookup 1, route unreachable default dev lo table 1',
  );
  t.equal(
    ns.try('ip', '-6', 'route', 'get', '2001:db8:1::1', 'mark', '1').stderr.trim(),
    'RTNETLINK answers: No route to host',
    'the kernel agrees',
  );
  const json = await cli('-n', ns.name, 'get', '2001:db8:1::1', '--mark', '1', '--json');
  t.match(JSON.parse(json.out), { verdict: 'unreachable', code: 'EHOSTUNREACH', table: 1, rule: { priority: 100 } });
  const kernel = await cli('-n', ns.name, 'get', '192.0.2.9', '--kernel', '--from', '192.0.2.1');
  t.match(kernel.out, /^192\.0\.2\.9 from 192\.0\.2\.1 dev va/);
  const kj = await cli('-n', ns.name, 'get', '192.0.2.9', '--kernel', '--json');
  t.match(JSON.parse(kj.out), { table: 254 });
  const none = await cli('-n', ns.name, 'get', '198.51.100.1', '--kernel');
  t.equal(none.code, 2);
  t.match(none.err, 'ENETUNREACH');
  const onlink = await cli('-n', ns.name, 'get', '198.51.100.1', '--oif', 'va');
  t.equal(onlink.code, 0);
  t.match(onlink.out, '198.51.100.1 dev va onlink');
});

t.test('monitor prints events as ip monitor does, and --json', async (t) => {
  const { ns } = fixture(t, 'climon');
  for (const json of [false, true]) {
    const ac = new AbortController();
    let out = '';
    const done = runNetlinkCli(['-n', ns.name, 'monitor', ...(json ? ['--json'] : [])], {
      out: (s) => {
        out += s;
      },
      err: () => {},
      signal: ac.signal,
    });
    await waitFor('synced', () => out.includes('synced'));
    ns.ip('-6', 'route', 'add', '2001:db8:7::/48', 'dev', 'va', 'table', '5');
    ns.ip('-6', 'route', 'del', '2001:db8:7::/48', 'dev', 'va', 'table', '5');
    ns.ip('link', 'set', 'vb', json ? 'up' : 'down');
    await waitFor('events', () => out.includes(json ? '"carrier":true' : 'link va: carrier off'));
    ac.abort();
    t.equal(await done, 0);
    if (json) {
      const events = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      t.match(events[0], { type: 'synced' });
      t.ok(events.find((e) => e.type === 'del' && e.kind === 'route' && e.route.table === 5));
    } else {
      t.match(
        out,
        '2001:db8:7::/48 dev va table 5 metric 1024 pref medium\nDeleted 2001:db8:7::/48 dev va table 5 metric 1024 pref medium\n',
      );
      t.match(out, 'link vb: admin down');
    }
  }
});

t.test('bad usage exits 2 with the usage; errors name what was asked', async (t) => {
  for (const args of [
    [],
    ['frob'],
    ['routes', '--bogus'],
    ['routes', 'x'],
    ['get'],
    ['get', '192.0.2.1', '--mark', 'one'],
    ['get', '192.0.2.1', '--mark', '-1'],
    ['routes', '--table', '08'],
    ['routes', '--table'],
    ['monitor', 'x'],
    ['rules', 'x'],
  ]) {
    const r = await cli(...args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, /usage: meshwan-netlink/);
  }
  const octal = await cli('routes', '--table', '08');
  t.match(octal.err, /^meshwan-netlink: --table: expected an unsigned number \(decimal, 0x hex or 0 octal\) 0\.\.4294967295, got "08"\n/);
  const bad = await cli('get', 'nonsense');
  t.equal(bad.code, 1);
  t.match(bad.err, 'netlink request: dst: expected an IP address, got "nonsense"');
  const missing = await cli('-n', 'mw-no-such-netns', 'routes');
  t.equal(missing.code, 1);
  t.match(missing.err, 'netlink: open /run/netns/mw-no-such-netns: ENOENT');
});

t.test('the installed command runs (bin -> dist)', async (t) => {
  const { ns } = fixture(t, 'clibin');
  const bin = new URL('../bin/meshwan-netlink.js', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [bin, '-n', ns.name, 'routes', '-4'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, '192.0.2.0/24 dev va proto kernel scope link src 192.0.2.1');
});
