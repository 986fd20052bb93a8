import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rule } from '@meshwan/netlink';
import { openConfig } from '@meshwan/uci';
import type { SectionLike } from '@meshwan/uplinks';
import t from 'tap';
import { deriveDesired } from '../src/desired.js';
import { routingFindings, uplinksFindings } from '../src/findings.js';
import { type Prefix, parsePrefix } from '../src/ip.js';
import { formatRoute, newRule } from '../src/model.js';
import { parseNetwork } from '../src/network.js';
import { planChanges } from '../src/plan.js';
import type { KernelState, Link } from '../src/state.js';
import { assessUplinks, managedUplink, noUplinks, readUplinksReport, uplinksView, uplinksViewOf } from '../src/uplinks.js';
import { gluonNetwork, raDefault, split } from './lib/fixtures.js';
import { kernelState } from './lib/kernel.js';

const prefix = (text: string) => parsePrefix(text) as Prefix;
const links: Link[] = [
  { name: 'lo', ifindex: 1, up: true },
  { name: 'br-wan', ifindex: 5, up: true },
  { name: 'bat0', ifindex: 7, up: true },
];
const uplinkSections: SectionLike[] = [
  { type: 'globals', name: 'globals', options: { table: '1' } },
  { type: 'interface', name: 'off', options: { device: 'wwan0', enabled: '0' } },
  { type: 'interface', name: 'wan6', options: { device: 'br-wan', family: 'ipv6', track_ip: ['2001:db8::1'] } },
];
const view = uplinksView(uplinkSections, '/etc/config/meshwan-uplinks');

const route = raDefault;
const floor = route({ table: 1, type: 'unreachable', metric: 65535, protocol: 4, dev: undefined, gateway: undefined });

t.test('the view: enabled interfaces with their probe tables and marks, as meshwan-uplinks numbers them', async (t) => {
  t.equal(view.configured, true);
  t.equal(view.protocol, 78);
  t.same(view.uplinks, [{ name: 'wan6', device: 'br-wan', family: 6, probeTable: 201, probeMark: 0x200, probeMask: 0xff00 }]);
  t.same(
    view.parking.map((p) => [p.name, p.probeTable]),
    [
      ['off', 200],
      ['wan6', 201],
    ],
    'disabled interfaces keep their probe table for parking',
  );
  t.equal(managedUplink(view, 'br-wan', 6)?.name, 'wan6');
  t.equal(managedUplink(view, 'br-wan', 4), undefined, 'IPv4 of br-wan is not an uplink');
  t.equal(managedUplink(noUplinks, 'br-wan', 6), undefined);
  const disabledOnly = uplinksView([uplinkSections[1] as SectionLike], 'f');
  t.equal(disabledOnly.configured, false, 'only disabled interfaces: not configured');
  const bad = uplinksView([{ type: 'interface', name: 'x', options: { device: 'eth1', weight: '0' } }], 'f');
  t.equal(bad.configured, false);
  t.match(bad.error, /f: x\.weight: expected an integer 1\.\.256/);
});

t.test('the view from a file: missing, unparsable, and a good one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-uplinks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const view = (root: string) => uplinksViewOf(openConfig({ root }), join(root, 'etc/config/meshwan-uplinks'));
  const rootWith = (name: string, text: string): string => {
    mkdirSync(join(dir, name, 'etc/config'), { recursive: true });
    writeFileSync(join(dir, name, 'etc/config/meshwan-uplinks'), text);
    return join(dir, name);
  };
  t.same(view(join(dir, 'none')), noUplinks);
  t.match(view(rootWith('bad', "config interface 'x\n")).error, /meshwan-uplinks/);
  const good = rootWith('good', "config interface 'wan6'\n\toption device 'br-wan'\n\toption enabled '0'\n");
  t.equal(view(good).uplinks.length, 0);
  // A staged (uncommitted) change in ROOT/tmp/.uci counts, as it does for netifd and meshwan-uplinks.
  mkdirSync(join(good, 'tmp/.uci'), { recursive: true, mode: 0o700 });
  openConfig({ root: good }).set('meshwan-uplinks', 'wan6', 'enabled', '1');
  t.equal(view(good).uplinks[0]?.probeTable, 200);
});

t.test('with uplinks: WAN defaults leave main and table 1 for the probe table; other WAN routes still move', async (t) => {
  const config = parseNetwork(gluonNetwork);
  const wanDefault = route({});
  const onLink = route({ dst: prefix('2001:db8:1::/64'), gateway: undefined, protocol: 2, metric: 256 });
  const oldMoved = route({ table: 1, gateway: 'fe80::2', protocol: 4 });
  const ours = route({ table: 1, protocol: 78, metric: 10 });
  const observed = { links, addresses: [], routes: [wanDefault, onLink, oldMoved, ours, floor] };
  const without = deriveDesired(config, split, observed);
  t.ok(
    without.routes.some((r) => r.table === 1 && r.dst.len === 0 && r.type === 'unicast'),
    'without uplinks the default moves into table 1 (Gluon)',
  );
  const d = deriveDesired(config, split, observed, view);
  t.same(d.unwantedRoutes.map(formatRoute).sort(), [formatRoute(wanDefault), formatRoute(onLink), formatRoute(oldMoved)].sort());
  t.same(
    d.routes
      .filter((r) => r.type === 'unicast')
      .map(formatRoute)
      .sort(),
    [
      '2001:db8:1::/64 dev br-wan table 1 proto kernel metric 256',
      'default via fe80::1 dev br-wan table 201 proto ra metric 1024',
      'default via fe80::2 dev br-wan table 201 proto static metric 1024',
    ],
  );
  t.notOk(
    d.routes.some((r) => r.protocol === 78),
    "uplinks' own default is neither moved nor re-added",
  );
  const plan = planChanges(d, [], observed.routes);
  t.notOk(
    plan.steps.some((s) => (s.op === 'deleteRoute' || s.op === 'addRoute') && s.route.protocol === 78),
    'the plan never touches proto 78',
  );
  // After the plan ran: nothing left to do (no fight).
  const after = [onLink, ours, floor, ...d.routes.filter((r) => r.table === 201 || r.dst.len > 0)].map((r) =>
    r === onLink ? { ...r, table: 1 } : r,
  );
  const again = deriveDesired(config, split, { links, addresses: [], routes: after }, view);
  t.same(
    planChanges(again, [], after).steps.filter((s) => s.op !== 'addRule'),
    [],
  );
});

t.test('uplinks disabled again: a default parked in its probe table goes back to table 1', async (t) => {
  const config = parseNetwork(gluonNetwork);
  const parked = route({ table: 201 });
  const disabled = uplinksView(
    uplinkSections.map((s) => (s.name === 'wan6' ? { ...s, options: { ...s.options, enabled: '0' } } : s)),
    'f',
  );
  t.equal(disabled.configured, false);
  const d = deriveDesired(config, split, { links, addresses: [], routes: [parked, floor] }, disabled);
  t.same(d.unwantedRoutes, [parked]);
  t.ok(d.routes.some((r) => r.table === 1 && r.dst.len === 0 && r.type === 'unicast' && r.gateway === 'fe80::1'));
  const still = deriveDesired(config, split, { links, addresses: [], routes: [parked, floor] }, view);
  t.same(still.unwantedRoutes, [], 'while enabled it stays parked');
  const other = deriveDesired(config, split, { links, addresses: [], routes: [route({ table: 300 }), floor] }, disabled);
  t.same(other.unwantedRoutes, [], 'a default in some other table is not ours to move');
});

t.test('findings: uplinks objects are legitimate; a foreign WAN default in table 1 and a dead daemon are reported', async (t) => {
  const rules: Rule[] = [
    newRule({ family: 6, priority: 1, action: 'lookup', table: 1, fwmark: 1, fwmask: 1, protocol: 4 }),
    newRule({ family: 6, priority: 8900, action: 'lookup', table: 201, fwmark: 0x200, fwmask: 0xff00, protocol: 78 }),
    newRule({ family: 6, priority: 9000, action: 'lookup', table: 254, invert: true, fwmark: 1, fwmask: 1, protocol: 77 }),
    newRule({ family: 6, priority: 9001, action: 'unreachable', invert: true, fwmark: 1, fwmask: 1, protocol: 77 }),
    newRule({ family: 6, priority: 9002, action: 'unreachable', fwmark: 1, fwmask: 1, protocol: 77 }),
  ];
  const multipath = route({
    table: 1,
    protocol: 78,
    metric: 10,
    dev: undefined,
    gateway: undefined,
    nexthops: [{ dev: 'br-wan', gateway: 'fe80::1', weight: 2 }],
  });
  const dnsHost = route({ table: 1, protocol: 78, metric: 10, dst: prefix('2001:db8::53/128') });
  const probe = route({ table: 201, protocol: 78, metric: 10 });
  const state: KernelState = kernelState(links, [], rules, [multipath, dnsHost, probe, floor]);
  const wanTables = new Set([1, 201]);
  t.same(routingFindings(state, { split, families: [6], wanTables, wanDevices: ['br-wan'] }), []);
  const running = { state: 'running' as const, summary: 'running', file: 'f' };
  t.same(uplinksFindings(state, view, running, new Set([1])), []);
  t.match(formatRoute(multipath), /default table 1 proto 78 metric 10 nexthop via fe80::1 dev br-wan weight 2/);
  const foreign = route({ table: 1, protocol: 4, gateway: 'fe80::2' });
  const found = uplinksFindings(
    { ...state, routes: [...state.routes, foreign] },
    view,
    { ...running, state: 'stale', summary: 'STALE: x' },
    new Set([1]),
  );
  t.same(
    found.map((f) => f.code),
    ['uplinks-not-running', 'wan-default-outlives-uplinks'],
  );
  t.match(found[1]?.what, /default via fe80::2 dev br-wan table 1 proto static metric 1024 is not meshwan-uplinks' \(proto 78\)/);
  t.same(
    uplinksFindings(state, { ...noUplinks, error: 'f: x.weight: bad' }, undefined, new Set([1])).map((f) => f.code),
    ['uplinks-config-error'],
  );
  t.same(
    uplinksFindings({ ...state, routes: [foreign] }, noUplinks, undefined, new Set([1])),
    [],
    "without uplinks a WAN default is Gluon's",
  );
});

t.test('the status file: missing, running, stale by age, by a gone writer, by a one-off writer, unreadable', async (t) => {
  const now = new Date('2026-12-01T06:00:00.000Z');
  const status = (over: object) =>
    JSON.stringify({
      table: 1,
      uplinks: [],
      choices: [],
      routes: [],
      restore: [],
      errors: [],
      updatedAt: '2026-12-01T05:59:59.000Z',
      writer: { pid: 4242, command: 'daemon', intervalMs: 500 },
      ...over,
    });
  const base = { view, file: '/var/run/meshwan-uplinks.json', now, alive: (pid: number) => pid === 4242 };
  t.match(assessUplinks({ ...base, text: undefined }), {
    state: 'not-running',
    summary: /NOT running: no \/var\/run\/meshwan-uplinks.json/,
  });
  t.match(assessUplinks({ ...base, view: noUplinks, text: undefined }), { state: 'not-configured' });
  t.match(assessUplinks({ ...base, view: { ...noUplinks, error: 'bad' }, text: undefined }), {
    state: 'not-configured',
    summary: /unusable \(bad\)/,
    configError: 'bad',
  });
  t.match(assessUplinks({ ...base, text: status({}) }), { state: 'running', ageSeconds: 1, summary: 'running: pid 4242, updated 1 s ago' });
  t.match(assessUplinks({ ...base, view: noUplinks, text: status({}) }), { state: 'running', summary: /no enabled interface/ });
  t.match(assessUplinks({ ...base, text: status({ updatedAt: '2026-12-01T05:59:00.000Z' }) }), {
    state: 'stale',
    summary: 'STALE: updated 60 s ago, more than 10 s (5 probe intervals)',
  });
  t.match(assessUplinks({ ...base, text: status({ writer: { pid: 1, command: 'daemon', intervalMs: 10_000 } }) }), {
    state: 'stale',
    summary: /its writer \(pid 1\) is gone/,
  });
  t.match(assessUplinks({ ...base, text: status({ writer: { pid: 4242, command: 'once', intervalMs: 500 } }) }), {
    summary: /one-off `meshwan-uplinks once`/,
  });
  t.match(assessUplinks({ ...base, text: status({ writer: undefined }) }), { summary: /does not say which process/ });
  t.match(assessUplinks({ ...base, text: '{' }), { state: 'stale', summary: /is not a status file/ });
  t.match(assessUplinks({ ...base, text: status({ updatedAt: 'never' }) }), { state: 'stale', summary: /updated \? s ago/ });
  t.match(readUplinksReport(view, '/nonexistent/x.json'), { state: 'not-running' });
});
