// tier: root: network namespaces, SO_MARK or firewall rules
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { addAddress, commandExists, isRoot, stopProcess, waitFor } from '../../../test/lib/netns.js';
import { startNsd } from '../../../test/lib/nsd.js';
import { requireParts } from '../../../test/lib/require.js';
import { testZoneOf } from '../../../test/lib/topo-nsd.js';
import { bin, buildTopology, onDevices, startDaemon, type Topology } from './lib/topology.js';

requireParts(
  !isRoot()
    ? 'needs root for network namespaces'
    : !commandExists('nsd')
      ? 'needs NSD'
      : !commandExists('dig')
        ? 'needs dig'
        : !commandExists('nft')
          ? 'needs nft'
          : false,
);

/**
 * Both uplinks probe with track_method dns and no track_ip: A's server comes from its uci dns_server list, B's from
 * the resolv file's `# Interface wanb` block, as wan-dnsmasq's resolv.conf.auto gives it.
 */
function writeDnsConfig(topo: Topology): string {
  const confdir = join(topo.dir, 'root/etc/config');
  mkdirSync(confdir, { recursive: true });
  const uplink = (name: string, dev: string, gw: string, metric: number, extra: string) =>
    `config interface '${name}'\n\toption device '${dev}'\n\toption family 'ipv6'\n\toption gateway '${gw}'\n` +
    `\toption track_method 'dns'\n\toption track_dns_name 'probe.meshwan.test'\n\toption track_dns_type 'TXT'\n` +
    `\toption interval '0.2'\n\toption timeout '0.3'\n\toption up '2'\n\toption down '2'\n\toption metric '${metric}'\n${extra}\n`;
  writeFileSync(
    join(confdir, 'meshwan-uplinks'),
    `config globals 'globals'\n\toption table '1'\n\toption state_file '${join(topo.dir, 'last-good.json')}'\n` +
      `\toption resolv_file '${join(topo.dir, 'resolv.conf')}'\n\n` +
      uplink('wana', 'wa', 'fe80::a1', 1, "\tlist dns_server '2001:db8:fa::53'\n") +
      uplink('wanb', 'wb', '2001:db8:b::1', 2, ''),
  );
  writeFileSync(join(topo.dir, 'resolv.conf'), '# Interface wanb\nnameserver 2001:db8:fb::53\n');
  return join(topo.dir, 'root');
}

type StatusJson = {
  uplinks: { name: string; health: { state: string; reason: string }; lastProbe: { target: string; ok: boolean; detail: string }[] }[];
};

t.test('DNS probes: an uplink that answers ping but not DNS is down; the default fails over and back', async (t) => {
  const topo = buildTopology(t);
  addAddress(topo.ra, 'lo', '2001:db8:fa::53/128');
  addAddress(topo.rb, 'lo', '2001:db8:fb::53/128');
  await startNsd(t, testZoneOf({ txt: 'wan-a', a: '203.0.113.10', aaaa: '2001:db8:fa::10' }), {
    ns: topo.ra,
    addresses: ['2001:db8:fa::53'],
    parent: topo.dir,
  });
  await startNsd(t, testZoneOf({ txt: 'wan-b', a: '203.0.113.11', aaaa: '2001:db8:fb::10' }), {
    ns: topo.rb,
    addresses: ['2001:db8:fb::53'],
    parent: topo.dir,
  });
  const root = writeDnsConfig(topo);
  const { child: daemon, statusFile, stderr } = startDaemon(t, topo, root);
  const onDev = (devs: string[]) => onDevices(topo, devs);
  const readStatus = () => JSON.parse(readFileSync(statusFile, 'utf8')) as StatusJson;
  const uplink = (name: string) => readStatus().uplinks.find((u) => u.name === name);

  // Both answer DNS: both up, the default on A (metric 1).
  await waitFor('default via wa', onDev(['wa']), 20_000);
  await waitFor('both uplinks up', () => uplink('wana')?.health.state === 'up' && uplink('wanb')?.health.state === 'up', 20_000);
  // A round may time out now and then on a busy machine: wait for an answered one rather than take the last.
  const answered = (name: string, server: string) => () =>
    uplink(name)?.lastProbe.some((p) => p.target === server && p.ok && /^NOERROR in/.test(p.detail)) === true;
  await waitFor('A answered by its uci dns_server', answered('wana', '2001:db8:fa::53'), 20_000);
  await waitFor('B answered by its resolv-file server', answered('wanb', '2001:db8:fb::53'), 20_000);
  t.match(uplink('wana')?.lastProbe, [{ target: '2001:db8:fa::53' }], 'A asks only its uci dns_server');
  t.match(uplink('wanb')?.lastProbe, [{ target: '2001:db8:fb::53' }], 'B asks only its resolv-file server');

  // Router A drops DNS only: ping through A (its probe mark and device, as the ping method sends) still works.
  topo.ra.exec('nft', 'add', 'table', 'inet', 'nodns');
  topo.ra.exec('nft', 'add', 'chain', 'inet', 'nodns', 'in', '{ type filter hook input priority 0 ; policy accept ; }');
  topo.ra.exec('nft', 'add', 'rule', 'inet', 'nodns', 'in', 'udp', 'dport', '53', 'counter', 'drop');
  await waitFor('default moves to wb when A stops answering DNS', onDev(['wb']), 20_000);
  await waitFor('status shows wana down', () => uplink('wana')?.health.state === 'down', 20_000);
  t.match(uplink('wana'), {
    // The status may be read a round after the one that took it down: the count goes on, `(down=2)` only at the turn.
    health: { state: 'down', reason: /^down: \d+ probe rounds lost in a row (\(down=2\) )?\(0\/1 answered\)$/ },
    lastProbe: [{ ok: false, detail: /no DNS reply within 300 ms/ }],
  });
  t.equal(topo.node.try('ping', '-6', '-n', '-c1', '-W2', '-m', '256', '-I', 'wa', '2001:db8:fa::1').status, 0, 'A still answers ping');
  t.match(topo.ra.exec('nft', 'list', 'table', 'inet', 'nodns'), /counter packets [1-9]/, 'the probes reached router A and were dropped');
  t.equal(topo.node.try('ping', '-6', '-n', '-c1', '-W2', '-m', '1', '2001:db8:ee::1').status, 0, 'marked traffic flows via B');
  await waitFor('the transition logged with its time', () =>
    /meshwan-uplinks: \d{4}-\d\d-\d\dT[\d:.]+Z wana: down: 2 probe rounds lost/.test(stderr()),
  );

  // DNS back on A: up after `up` answered rounds, the default returns.
  topo.ra.exec('nft', 'delete', 'table', 'inet', 'nodns');
  await waitFor('default back on wa once A answers DNS again', onDev(['wa']), 20_000);

  // A server that answers REFUSED is no better than none: B asks for a name outside NSD's zone.
  // (Checked through the status of a one-off `once`, which probes without hysteresis, with the daemon stopped.)
  await stopProcess(daemon);
  const refusedRoot = join(topo.dir, 'refused');
  mkdirSync(join(refusedRoot, 'etc/config'), { recursive: true });
  writeFileSync(
    join(refusedRoot, 'etc/config/meshwan-uplinks'),
    readFileSync(join(root, 'etc/config/meshwan-uplinks'), 'utf8').replaceAll("'probe.meshwan.test'", "'elsewhere.example'"),
  );
  const once = topo.node.try(process.execPath, bin, 'once', '--root', refusedRoot, '--status-file', join(topo.dir, 'once.json'));
  t.equal(once.status, 1, 'no uplink is healthy: once fails closed');
  const s = JSON.parse(readFileSync(join(topo.dir, 'once.json'), 'utf8')) as StatusJson;
  t.match(
    s.uplinks.map((u) => u.lastProbe[0]?.detail),
    ['REFUSED from 2001:db8:fa::53', 'REFUSED from 2001:db8:fb::53'],
  );
});
