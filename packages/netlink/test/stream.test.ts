// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * `meshwan-netlink routes` streams: a dump of 20k routes, run as the router runs it (the QuickJS bundle on
 * meshwan-js), prints what `ip route show table all` prints and, with --json, what the CLI printed before it
 * streamed (the library's Route objects stringified whole), byte for byte, in a bounded peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { runNetlinkCli } from '../src/cli.js';
import { formatRouteJson } from '../src/format.js';
import { familyWords, type Route } from '../src/index.js';
import { bundle, fixture, missingPart, norm, root } from './helpers.js';

requireParts(missingPart);

const ROUTES = 20_000;
/** Peak RSS allowed for the dump on meshwan-js: it streams in about 4 MB; holding 20k routes took 17 (text) to 35 MB (--json). */
const RSS_LIMIT_KB = 12 * 1024;

/** The --json of the CLI before it streamed: every route object, `dev` added, `unknown` left out, stringified whole. */
function stringifiedWhole(routes: readonly Route[], name: (i: number) => string): string {
  return `${JSON.stringify(
    routes.map((r) => ({ ...r, dev: r.oif !== undefined ? name(r.oif) : undefined, unknown: undefined })),
    familyWords,
    2,
  )}\n`;
}

t.test('a dump of 20k routes streams the same bytes as before, in bounded memory', async (t) => {
  const { ns, nl } = fixture(t, 'stream');
  const batch: string[] = [];
  for (let i = 0; i < ROUTES; i++)
    batch.push(
      `route add 2001:db8:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}00::/56 via 2001:db8::2 metric ${i % 5} table ${i % 3 ? 'main' : '1000'}`,
    );
  for (let i = 0; i < 500; i++) batch.push(`route add 198.51.${100 + (i >> 8)}.${i & 0xff}/32 via 192.0.2.2 table ${1 + (i % 2)}`);
  batch.push(
    'route add 203.0.113.0/24 dev va src 192.0.2.1 proto static',
    'route add prohibit 203.0.113.128/25 table 7',
    'route add 2001:db8:ff::/48 nexthop via 2001:db8::2 dev va weight 3 nexthop via 2001:db8::3 dev va',
    'route add 2001:db8:fe::/48 from 2001:db8:1::/48 via 2001:db8::2',
    'route add unreachable ::/0 table 1 metric 65535',
    'route add blackhole 2001:db8:fd::/48 proto babel',
  );
  const ip = spawnSync('ip', ['-n', ns.name, '-batch', '-'], { input: `${batch.join('\n')}\n`, encoding: 'utf8' });
  t.equal(ip.status, 0, ip.stderr);
  // the link-local routes settle once DAD is done: the byte-for-byte comparison needs the same routes in every dump
  await waitFor('link-local addresses past DAD', () => !ns.ip('-6', 'addr').includes('tentative'));

  const dir = mkdtempSync(join(tmpdir(), 'meshwan-nl-stream-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cli = await bundle('quickjs', dir);
  /** The CLI on meshwan-js in the namespace, with its peak RSS (/usr/bin/time -v). */
  const run = (...args: string[]) => {
    const r = spawnSync('ip', ['netns', 'exec', ns.name, '/usr/bin/time', '-v', join(root, 'build/host/meshwan-js'), cli, ...args], {
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    });
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    if (!rss) throw new Error(`/usr/bin/time -v printed no peak RSS: ${r.stderr.slice(-500)}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, rssKB: Number(rss[1]) };
  };

  for (const family of ['-4', '-6']) {
    const r = run('routes', '--table', 'all', family);
    t.equal(r.status, 0, `routes --table all ${family} exits 0`);
    const want = ns.ip(family, 'route', 'show', 'table', 'all');
    t.ok(want.split('\n').length > (family === '-6' ? ROUTES : 500), `ip ${family} lists what was added`);
    t.equal(norm(r.stdout), norm(want), `routes --table all ${family} prints what ip prints`);
    t.ok(r.rssKB < RSS_LIMIT_KB, `routes ${family}: peak RSS ${r.rssKB} kB, under ${RSS_LIMIT_KB}`);
  }

  const links = new Map(nl.listLinks().map((l) => [l.index, l.name]));
  const name = (i: number) => links.get(i) ?? `if${i}`;
  for (const args of [['--table', 'all'], ['--table', '1000', '-6'], ['-4']]) {
    const r = run('routes', '--json', ...args);
    t.equal(r.status, 0, `routes --json ${args.join(' ')} exits 0`);
    const table = args[1] === 'all' ? undefined : args[1] === '1000' ? 1000 : 254;
    const families = args.includes('-6') ? ([6] as const) : args.includes('-4') ? ([4] as const) : ([4, 6] as const);
    const routes = families.flatMap((family) => nl.listRoutes({ family, table }));
    t.ok(routes.length > (table === 1000 ? ROUTES / 4 : 1), `${routes.length} routes in ${args.join(' ')}`);
    t.equal(r.stdout, stringifiedWhole(routes, name), `routes --json ${args.join(' ')}: the bytes the CLI printed before it streamed`);
    t.ok(r.rssKB < RSS_LIMIT_KB, `routes --json ${args.join(' ')}: peak RSS ${r.rssKB} kB, under ${RSS_LIMIT_KB}`);
  }
  const none = run('routes', '--json', '--table', '4242');
  t.equal(none.stdout, '[]\n', 'an empty (never created) table is an empty array, as JSON.stringify prints it');
});

t.test('formatRouteJson is JSON.stringify of the route object, every optional field included', async (t) => {
  const { ns, nl } = fixture(t, 'streamjson');
  ns.ip('-6', 'route', 'add', '2001:db8:e::/48', 'via', '2001:db8::2', 'expires', '300');
  ns.ip(
    '-6',
    'route',
    'add',
    '2001:db8:f::/48',
    'nexthop',
    'via',
    '2001:db8::2',
    'dev',
    'va',
    'nexthop',
    'via',
    '2001:db8::3',
    'dev',
    'va',
    'weight',
    '2',
  );
  ns.ip('-6', 'route', 'add', '2001:db8:d::/48', 'from', '2001:db8:1::/48', 'via', '2001:db8::2', 'pref', 'high');
  ns.ip('route', 'add', '203.0.113.0/24', 'dev', 'va', 'src', '192.0.2.1');
  const routes = [...nl.listRoutes({ family: 4 }), ...nl.listRoutes({ family: 6 })];
  const seen = new Set<string>();
  for (const r of routes) {
    for (const k of Object.keys(r)) if (r[k as keyof Route] !== undefined) seen.add(k);
    const whole = JSON.stringify([{ ...r, dev: r.oif !== undefined ? `dev${r.oif}` : undefined, unknown: undefined }], familyWords, 2);
    t.equal(`[\n${formatRouteJson(r, (i) => `dev${i}`)}\n]`, whole, `${r.dst}/${r.dstLength} table ${r.table}`);
  }
  for (const field of ['src', 'prefsrc', 'gateway', 'oif', 'nexthops', 'expiresSeconds', 'pref'])
    t.ok(seen.has(field), `some route has ${field}`);
  const quoted = { ...routes[0], oif: 1 } as Route;
  t.equal(JSON.parse(`[${formatRouteJson(quoted, () => 'a"b\\c')}]`)[0].dev, 'a"b\\c', 'a device name is a JSON string');
});

t.test('the CLI writes its dump in chunks of 64 KiB, not a line or the whole dump at a time', async (t) => {
  const { ns } = fixture(t, 'streamchunk');
  const batch = Array.from({ length: 3000 }, (_, i) => `route add 2001:db8:${(i + 16).toString(16)}::/48 via 2001:db8::2`);
  const ip = spawnSync('ip', ['-6', '-n', ns.name, '-batch', '-'], { input: `${batch.join('\n')}\n`, encoding: 'utf8' });
  t.equal(ip.status, 0, ip.stderr);
  const chunks: string[] = [];
  const code = await runNetlinkCli(['-n', ns.name, 'routes', '-6', '--json'], { out: (s) => chunks.push(s), err: (s) => t.fail(s) });
  t.equal(code, 0);
  t.ok(chunks.length >= 3, `${chunks.length} writes`);
  t.ok(
    chunks.slice(0, -1).every((c) => c.length >= 65536 && c.length < 65536 + 4096),
    'every write but the last is one 64 KiB chunk (plus the route that filled it)',
  );
  t.equal(JSON.parse(chunks.join('')).length, 3000 + 3, 'the chunks make one JSON array');
});
