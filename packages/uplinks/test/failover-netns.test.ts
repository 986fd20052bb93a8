// tier: root: network namespaces, SO_MARK or firewall rules
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { commandExists, isRoot, stopProcess, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { bin, buildTopology, defaultDevices, onDevices, portDown, portUp, startDaemon, table1, writeConfig } from './lib/topology.js';

requireParts(
  !isRoot()
    ? 'needs root for network namespaces'
    : !commandExists('ping')
      ? 'needs iputils ping'
      : !commandExists('nft')
        ? 'needs nft'
        : false,
);

t.test('the table-1 default follows the healthy uplink: link down, silent drop, and back', async (t) => {
  const topo = buildTopology(t);
  const root = writeConfig(topo);
  writeFileSync(join(topo.dir, 'resolv.conf'), 'nameserver 2001:db8:cc::53\n# Interface wanb\nnameserver 2001:db8:fb::53\n');
  const { child: daemon, statusFile, stderr } = startDaemon(t, topo, root);
  const onDev = (devs: string[]) => onDevices(topo, devs);

  await waitFor('default via wa (metric 1 beats 2)', onDev(['wa']), 20_000);
  const routes = table1(topo.node);
  t.match(
    routes.find((r) => r.dst === 'default' && r.protocol === '78'),
    { gateway: 'fe80::a1', dev: 'wa' },
  );
  t.ok(
    routes.some((r) => r.type === 'unreachable' && r.dst === 'default' && r.metric === 65535),
    'the policy floor is left alone',
  );
  await waitFor('DNS host routes in table 1', () => {
    const r = table1(topo.node);
    return r.some((x) => x.dst === '2001:db8:fa::53' && x.dev === 'wa') && r.some((x) => x.dst === '2001:db8:fb::53' && x.dev === 'wb');
  });
  t.notOk(
    table1(topo.node).some((x) => x.dst === '2001:db8:cc::53'),
    'a server without an interface follows the default: no host route',
  );
  t.equal(topo.node.try('ping', '-6', '-n', '-c1', '-W2', '-m', '1', '2001:db8:ee::1').status, 0, 'marked traffic flows');
  // The netifd hotplug hook's poke (SIGUSR1 through procd) makes it resync at once and changes nothing here.
  daemon.kill('SIGUSR1');
  await waitFor('the poke to be logged', () => /meshwan-uplinks: \d{4}-\d\d-\d\dT[\d:.]+Z poked: resync/.test(stderr()));
  t.same(defaultDevices(topo.node), ['wa'], 'a poke in a steady state changes nothing');

  // (1) link down at router A: carrier loss on wa.
  portDown(topo, 'a');
  await waitFor('default moves to wb after link down', onDev(['wb']), 20_000);
  await waitFor('wa DNS host route turns unreachable', () =>
    table1(topo.node).some((x) => x.dst === '2001:db8:fa::53' && x.type === 'unreachable'),
  );
  t.equal(topo.node.try('ping', '-6', '-n', '-c1', '-W2', '-m', '1', '2001:db8:ee::1').status, 0, 'marked traffic flows via B');
  portUp(topo, 'a');
  await waitFor('default back on wa', onDev(['wa']), 20_000);

  // (2) silent drop: router A drops everything from the node's global address; carrier stays up.
  topo.ra.exec('nft', 'add', 'table', 'inet', 'cut');
  topo.ra.exec('nft', 'add', 'chain', 'inet', 'cut', 'in', '{ type filter hook input priority 0 ; policy accept ; }');
  topo.ra.exec('nft', 'add', 'rule', 'inet', 'cut', 'in', 'ip6', 'saddr', '2001:db8:a::2', 'drop');
  await waitFor('default moves to wb after a silent drop', onDev(['wb']), 20_000);
  type StatusJson = { uplinks: { name: string; health: { state: string; reason: string } }[]; choices: { reason: string }[] };
  const readStatus = () => JSON.parse(readFileSync(statusFile, 'utf8')) as StatusJson;
  // The status file is written just after the routes; wait for it rather than racing it.
  await waitFor('status shows wana down', () => readStatus().uplinks.find((u) => u.name === 'wana')?.health.state === 'down');
  const status = readStatus();
  t.match(status.uplinks.find((u) => u.name === 'wana')?.health, { state: 'down', reason: /probe rounds lost in a row/ });
  t.match(status.choices[0]?.reason, /wanb \(metric 2, weight 1\) is the healthy uplink with the lowest metric; wana is down/);
  topo.ra.exec('nft', 'delete', 'table', 'inet', 'cut');
  await waitFor('default back on wa after the drop ends', onDev(['wa']), 20_000);

  // (3) both down: no default of ours, the floor fails closed.
  portDown(topo, 'a');
  portDown(topo, 'b');
  await waitFor('no default of ours', onDev([]), 20_000);
  t.not(topo.node.try('ping', '-6', '-n', '-c1', '-W1', '-m', '1', '2001:db8:ee::1').status, 0, 'marked traffic fails closed');

  // status --json reads the daemon's file
  const out = topo.node.exec(process.execPath, bin, 'status', '--json', '--status-file', statusFile);
  t.match(JSON.parse(out), { table: 1, uplinks: [{ name: 'wana' }, { name: 'wanb' }] });
  t.match(topo.node.exec(process.execPath, bin, 'status', '--status-file', statusFile), /default \(inet6\): none of ours/);

  // Stopped, the daemon leaves its objects (a restart must not drop the WAN); `flush` removes them all.
  await stopProcess(daemon);
  t.ok(
    table1(topo.node).some((r) => r.protocol === '78'),
    'left in place on SIGTERM',
  );
  topo.node.exec(process.execPath, bin, 'flush', '--root', root, '--status-file', statusFile);
  t.notOk(
    table1(topo.node).some((r) => r.protocol === '78'),
    'no route of ours in table 1',
  );
  t.notMatch(topo.node.ip('-6', 'rule'), /8900:/, 'no probe rule');
  t.same(topo.node.ipJson('-6', 'route', 'show', 'table', '200'), [], 'no probe table');
  t.ok(
    table1(topo.node).some((r) => r.type === 'unreachable' && r.metric === 65535),
    'the floor stays',
  );
  t.notOk(existsSync(statusFile), 'no status file');
  t.equal(topo.node.exec(process.execPath, bin, 'flush', '--root', root, '--status-file', statusFile), '', 'twice: nothing to do');
});
