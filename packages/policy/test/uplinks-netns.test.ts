// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * policy and @meshwan/uplinks on one node: `meshwan daemon` and `meshwan-uplinks daemon` both running. Policy
 * moves the WAN routes out of main but parks the WAN default in the uplink's probe table, so the table-1 default
 * is only ever uplinks' (proto 78): with the uplink cut, table 1 holds the unreachable floor alone (fail closed);
 * with it back, uplinks' default returns; and once settled neither daemon rewrites anything (a count of netlink
 * route and rule events over a quiet period, not a timing).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { commandExists, isRoot, stopProcess, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { engine } from '../../os/test/lib/probe.js';
import { bundleEntry, scratch } from '../../os/test/lib/seam.js';
import { startForwarder } from './lib/forwarder.js';
import { cliEnv, createNode, meshwan, meshwanBin } from './lib/node.js';

t.setTimeout(150_000);
requireParts(!isRoot() ? 'needs root for network namespaces' : !commandExists('nft') ? 'needs nft' : false);
// meshwan-uplinks as the router runs it: its src/main.ts bundled and compiled to bytecode, run by meshwan-js.
const uplinksMain = fileURLToPath(new URL('../../uplinks/src/main.ts', import.meta.url));

interface RouteJson {
  dst: string;
  type?: string;
  dev?: string;
  gateway?: string;
  protocol?: string;
  metric?: number;
}

interface Report {
  ok: boolean;
  findings: { code: string; what: string }[];
}

t.test("both daemons: the table-1 default is uplinks' alone, fails closed on a cut, and nobody fights", async (t) => {
  const n = createNode(t);
  mkdirSync(join(n.root, 'var/run'), { recursive: true });
  mkdirSync(join(n.root, 'var/gluon/wan-dnsmasq'), { recursive: true });
  writeFileSync(join(n.root, 'var/gluon/wan-dnsmasq/resolv.conf'), '');
  // No gateway in the config: uplinks learns it from netifd's default, which policy parks in table 200.
  writeFileSync(
    join(n.root, 'etc/config/meshwan-uplinks'),
    `config globals 'globals'
	option table '1'
	option state_file '${join(n.root, 'etc/meshwan/uplinks-last-good.json')}'
	option resolv_file '${join(n.root, 'var/gluon/wan-dnsmasq/resolv.conf')}'

config interface 'wan6'
	option device 'br-wan'
	option family 'ipv6'
	list track_ip '2001:db8:1::1'
	option interval '0.2'
	option timeout '0.3'
	option up '2'
	option down '2'
`,
  );
  const statusFile = join(n.root, 'var/run/meshwan-uplinks.json');
  const table = (id: string) => n.node.ipJson<RouteJson[]>('-6', 'route', 'show', 'table', id);
  const defaults = (id: string) => table(id).filter((r) => r.dst === 'default');
  const uplinksDefault = () => defaults('1').find((r) => r.protocol === '78');

  t.equal(meshwan(n, ['apply']).status, 0, 'firewall and routing once');
  t.same(
    defaults('1').map((r) => r.type),
    ['unreachable'],
    'with uplinks configured policy puts no default into table 1',
  );
  t.match(defaults('200'), [{ gateway: '2001:db8:1::1', dev: 'br-wan' }], 'the WAN default is parked in the probe table');
  t.same(
    n.node
      .ipJson<RouteJson[]>('-6', 'route', 'show', 'table', 'main')
      .filter((r) => r.dev === 'br-wan')
      .map((r) => r.dst),
    ['fe80::/64'],
    'main carries no WAN route but the link-local prefix, as netifd leaves it',
  );

  let policyLog = '';
  let uplinksLog = '';
  const policy = n.node.spawn(t, process.execPath, [meshwanBin, 'daemon', '--root', n.root], {
    env: cliEnv({ MESHWAN_FIREWALL: 'none' }),
  });
  policy.stderr?.on('data', (d: Buffer) => {
    policyLog += d.toString();
  });
  const uplinksBin = await bundleEntry(uplinksMain, 'host', scratch(t));
  const uplinks = n.node.spawn(t, engine('host'), [uplinksBin, 'daemon', '--root', n.root, '--status-file', statusFile]);
  uplinks.stderr?.on('data', (d: Buffer) => {
    uplinksLog += d.toString();
  });
  t.teardown(() => {
    if (!t.passing()) t.comment(`policy:\n${policyLog}\nuplinks:\n${uplinksLog}`);
  });
  await waitFor('policy to watch', () => policyLog.includes('meshwan: watching'), 60_000);
  t.match(policyLog, /meshwan-uplinks configured: the WAN default of br-wan \(IPv6\) is its daemon's \(proto 78\)/);
  await waitFor("uplinks' default in table 1", () => uplinksDefault() !== undefined, 30_000);
  t.match(uplinksDefault(), { gateway: '2001:db8:1::1', dev: 'br-wan', metric: 10 }, 'the gateway was learned from the parked route');
  t.equal(n.node.try('ping', '-6', '-n', '-c1', '-W2', '-m', '1', '2001:db8:1::1').status, 0, 'marked traffic uses the WAN');

  const forwarder = await startForwarder(t, n.node);
  const check = meshwan(n, ['check', '--json']);
  const report = JSON.parse(check.stdout) as Report;
  t.same(report.findings, [], "check accepts uplinks' default, probe table and pref-8900 rule");
  t.equal(check.status, 0);
  const status = meshwan(n, ['status']);
  t.match(status.stdout, /uplinks running: pid \d+, updated [\d.]+ s ago/);
  t.match(status.stdout, /\n {2}uplink wan6 \(inet6, dev br-wan, metric 1, weight 1, probe mark 0x100\): up, via 2001:db8:1::1 \(route\)/);
  t.match(
    status.stdout,
    /\n {2}default \(inet6\): wan6\n {4}why: wan6 \(metric 1, weight 1\) is the healthy uplink with the lowest metric/,
  );
  await stopProcess(forwarder);

  // Silent cut: the home router drops everything from the node; carrier stays up, so only probes notice.
  n.uplink.exec('nft', 'add', 'table', 'inet', 'cut');
  n.uplink.exec('nft', 'add', 'chain', 'inet', 'cut', 'in', '{ type filter hook input priority 0 ; policy accept ; }');
  n.uplink.exec('nft', 'add', 'rule', 'inet', 'cut', 'in', 'ip6', 'saddr', '2001:db8:1::5', 'drop');
  await waitFor("uplinks' default gone", () => uplinksDefault() === undefined, 30_000);
  // Let both daemons react to that change before judging the end state.
  await waitFor('status shows wan6 down', () => /"state": "down"/.test(readFileSync(statusFile, 'utf8')), 10_000);
  t.same(
    defaults('1').map((r) => `${r.type ?? 'unicast'} ${r.metric}`),
    ['unreachable 65535'],
    'table 1 ends with the floor only: no policy-installed default',
  );
  t.match(
    n.node.try('ip', '-6', 'route', 'get', '2001:db8:ee::1', 'mark', '1').stderr,
    /unreachable|No route/i,
    'marked traffic fails closed',
  );
  const down = JSON.parse(meshwan(n, ['status', '--json']).stdout) as {
    uplinks: { state: string; status: { choices: { reason: string }[] } };
  };
  t.equal(down.uplinks.state, 'running');
  t.match(down.uplinks.status.choices[0]?.reason, /no uplink is healthy \(wan6 down\)/);

  n.uplink.exec('nft', 'delete', 'table', 'inet', 'cut');
  await waitFor("uplinks' default back", () => uplinksDefault() !== undefined, 30_000);

  // Quiet period: with nothing changing outside, neither daemon may write a route or rule.
  await new Promise((r) => setTimeout(r, 1500));
  const monitor = n.node.spawn(t, 'ip', ['-6', 'monitor', 'route', 'rule']);
  let events = '';
  monitor.stdout?.on('data', (d: Buffer) => {
    events += d.toString();
  });
  // Long enough for 2 of uplinks' resync ticks (2 s), ~20 probe rounds each and policy's 2 s safety pass.
  await new Promise((r) => setTimeout(r, 5000));
  // A sentinel proves the monitor was listening all along (an empty count from a dead monitor proves nothing).
  n.node.ip('-6', 'route', 'add', 'blackhole', '2001:db8:5e::/48', 'table', '999');
  await waitFor('the monitor to see the sentinel', () => events.includes('2001:db8:5e::/48'));
  await stopProcess(monitor);
  const lines = events.split('\n').filter((l) => l.trim() !== '');
  const quiet = lines.slice(
    0,
    lines.findIndex((l) => l.includes('2001:db8:5e::/48')),
  );
  t.equal(quiet.length, 0, `netlink route/rule events in the quiet period: ${quiet.join(' | ')}`);
  t.notMatch(policyLog, /repair: .*(proto 78|table 1 .*default|default .*table 1)/, "policy never repaired uplinks' objects");

  await stopProcess(uplinks);
  const stale = meshwan(n, ['status']);
  t.match(stale.stdout, /uplinks STALE: its writer \(pid \d+\) is gone/);
  t.match(stale.stdout, /\n {2}last known:\n/);
  const checkStale = JSON.parse(meshwan(n, ['check', '--json']).stdout) as Report;
  t.ok(
    checkStale.findings.some((f) => f.code === 'uplinks-not-running'),
    'check reports the dead uplinks daemon',
  );

  // Uplinks switched off again (what the init script's reload does): its objects flushed, and policy, re-reading
  // the changed config, hands the parked WAN default back to table 1 (Gluon's behaviour).
  const conf = join(n.root, 'etc/config/meshwan-uplinks');
  writeFileSync(conf, readFileSync(conf, 'utf8').replace("option family 'ipv6'", "option family 'ipv6'\n\toption enabled '0'"));
  n.node.exec(engine('host'), uplinksBin, 'flush', '--root', n.root, '--status-file', statusFile);
  await waitFor('the WAN default back in table 1', () =>
    defaults('1').some((r) => r.type === undefined && r.gateway === '2001:db8:1::1' && r.protocol !== '78'),
  );
  t.same(defaults('200'), [], 'nothing left parked');
  t.notMatch(n.node.ip('-6', 'rule'), /8900:/, 'no probe rule');
  t.match(meshwan(n, ['status']).stdout, /uplinks not configured: no enabled interface/);
  const after = meshwan(n, ['check', '--json']);
  t.equal(after.status, 1, 'only the stopped forwarder is missing');
  t.same(
    (JSON.parse(after.stdout) as Report).findings.map((f) => f.code).filter((c) => !c.startsWith('forwarder')),
    [],
  );
  await stopProcess(policy);
});

t.test('status --uplinks-status FILE: missing file says not running; --json carries the report', async (t) => {
  const n = createNode(t);
  writeFileSync(join(n.root, 'etc/config/meshwan-uplinks'), "config interface 'wan6'\n\toption device 'br-wan'\n");
  const missing = join(n.root, 'nowhere.json');
  const text = meshwan(n, ['status', '--uplinks-status', missing]);
  t.equal(text.status, 0, text.stderr);
  t.match(text.stdout, new RegExp(`uplinks NOT running: no ${missing} \\(start it: /etc/init.d/meshwan-uplinks start\\)`));
  const json = JSON.parse(meshwan(n, ['status', '--json', `--uplinks-status=${missing}`]).stdout) as {
    uplinks: { state: string; file: string };
  };
  t.same(json.uplinks, {
    file: missing,
    state: 'not-running',
    summary: `NOT running: no ${missing} (start it: /etc/init.d/meshwan-uplinks start)`,
  });
  t.equal(meshwan(n, ['status', '--uplinks-status']).status, 2, 'the option needs a file');
});
