// tier: root: network namespaces, SO_MARK or firewall rules
import t from 'tap';
import { isRoot, stopProcess, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { cliEnv, createNode, meshwan, meshwanBin } from './lib/node.js';

t.setTimeout(120_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');

t.test('daemon: applies, repairs each kind of drift, logs it, stops cleanly on SIGTERM', async (t) => {
  const n = createNode(t);
  const child = n.node.spawn(t, process.execPath, [meshwanBin, 'daemon', '--root', n.root], { env: cliEnv() });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  await waitFor('the daemon to watch', () => log.includes('meshwan: watching'), 60_000);
  t.match(log, /watching \(netlink monitor\)/);
  t.match(log, /meshwan: apply: add rule 9001: not from all fwmark 0x1\/0x1 unreachable proto meshwan/);
  const rules = () => n.node.ip('-6', 'rule');
  const table1 = () => n.node.ip('-6', 'route', 'show', 'table', '1');
  const main = () => n.node.ip('-6', 'route', 'show', 'table', 'main');

  n.node.ip('-6', 'rule', 'del', 'pref', '9001');
  await waitFor('the gate rule to come back', () => rules().includes('9001:'));

  // As the kernel adds an RA route: via the router's link-local address.
  n.node.ip('-6', 'route', 'add', '2001:db8:77::/64', 'via', 'fe80::1', 'dev', 'br-wan');
  await waitFor('the WAN route to move to table 1', () => table1().includes('2001:db8:77::/64') && !main().includes('2001:db8:77::/64'));

  n.node.ip('-6', 'route', 'del', 'unreachable', 'default', 'table', '1', 'metric', '65535');
  await waitFor('the unreachable route to come back', () => /unreachable default .*metric 65535/.test(table1()));

  const backend = n.node.try('ip6tables', '-t', 'nat', '-S', 'OUTPUT').stdout.includes('meshwan_OUTPUT') ? 'iptables' : 'nft';
  t.equal(backend, 'iptables', 'this host has iptables-restore, so the wrapper picks iptables');
  n.node.exec('ip6tables', '-t', 'nat', '-D', 'OUTPUT', '-j', 'meshwan_OUTPUT');
  await waitFor('the firewall jump to come back', () =>
    n.node.exec('ip6tables', '-t', 'nat', '-S', 'OUTPUT').includes('-j meshwan_OUTPUT'),
  );

  // The log line follows the kernel change through a pipe: wait for it rather than race it.
  await waitFor('the firewall repair to be logged', () => /meshwan: repair: firewall /.test(log));
  t.match(log, /repair: add rule 9001:/);
  t.match(log, /repair: delete route 2001:db8:77::\/64 via fe80::1 dev br-wan table main/);
  t.match(log, /repair: add route unreachable default table 1/);
  t.match(log, /meshwan: repair: firewall iptables(-nft|-legacy)?: repair missing-jump ipv6 nat OUTPUT/);

  const status = meshwan(n, ['status', '--json']);
  t.equal(status.status, 0, status.stderr);
  const parsed = JSON.parse(status.stdout) as { repairs: { change: string }[]; redirect: { inSync: boolean } };
  t.ok(parsed.repairs.some((r) => r.change.startsWith('add rule 9001')));
  t.equal(parsed.redirect.inSync, true);
  t.match(meshwan(n, ['status']).stdout, /last repairs:/);

  // A generous grace: on a loaded machine the last pass (firewall included) may take seconds to finish.
  await stopProcess(child, 30_000);
  t.equal(child.exitCode, 0);
  t.match(log, /meshwan: stopped/);
  t.match(rules(), /9001:/, 'the split stays in place after the daemon stopped (fail closed)');
});
