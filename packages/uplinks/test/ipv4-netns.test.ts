// tier: root: network namespaces, SO_MARK or firewall rules
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { addAddress, commandExists, isRoot } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { bin, buildTopology, portDown, writeConfig } from './lib/topology.js';

requireParts(!isRoot() ? 'needs root for network namespaces' : !commandExists('ping') ? 'needs iputils ping' : false);

interface Route4 {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  nexthops?: { dev: string; weight?: number }[];
}

t.test('IPv4 uplinks: failover between two gateways in table 1', async (t) => {
  const topo = buildTopology(t);
  addAddress(topo.node, 'wa', '192.0.2.2/24');
  addAddress(topo.node, 'wb', '198.51.100.2/24');
  addAddress(topo.ra, 'ua', '192.0.2.1/24');
  addAddress(topo.rb, 'ub', '198.51.100.1/24');
  addAddress(topo.ra, 'lo', '203.0.113.1/32');
  addAddress(topo.rb, 'lo', '203.0.113.1/32');
  topo.node.ip('-4', 'rule', 'add', 'pref', '1', 'fwmark', '0x1/0x1', 'lookup', '1');
  topo.node.ip('-4', 'route', 'add', 'unreachable', 'default', 'table', '1', 'metric', '65535');
  // v4b names no gateway: it is learned from the default netifd would add (here in table 1, where policy moves it).
  topo.node.ip('-4', 'route', 'add', 'default', 'via', '198.51.100.1', 'dev', 'wb', 'table', '1', 'metric', '1024', 'proto', 'static');
  const v4 = (name: string, dev: string, gw: string, metric: number) =>
    `config interface '${name}'\n\toption device '${dev}'\n\toption family 'ipv4'\n${name === 'v4b' ? '' : `\toption gateway '${gw}'\n`}\tlist track_ip '203.0.113.1'\n\toption metric '${metric}'\n\tlist dns_server '${gw.replace(/\.1$/, '.53')}'\n\n`;
  const root = writeConfig(topo, { extra: v4('v4a', 'wa', '192.0.2.1', 1) + v4('v4b', 'wb', '198.51.100.1', 2) });
  writeFileSync(join(topo.dir, 'resolv.conf'), '');
  const once = () => topo.node.try(process.execPath, bin, 'once', '--root', root, '--status-file', join(topo.dir, 's.json'));
  const ours = () => topo.node.ipJson<Route4[]>('-4', 'route', 'show', 'table', '1').filter((r) => r.protocol === '78');

  const first = once();
  t.equal(first.status, 0, first.stderr);
  t.match(
    ours().find((r) => r.dst === 'default'),
    { gateway: '192.0.2.1', dev: 'wa' },
  );
  t.match(
    ours().find((r) => r.dst === '192.0.2.53'),
    { gateway: '192.0.2.1', dev: 'wa' },
    'IPv4 DNS host route via the learning uplink',
  );
  t.equal(topo.node.try('ping', '-4', '-n', '-c1', '-W2', '-m', '1', '203.0.113.1').status, 0, 'marked IPv4 traffic flows');
  portDown(topo, 'a');
  t.equal(once().status, 0);
  t.match(
    ours().find((r) => r.dst === 'default'),
    { gateway: '198.51.100.1', dev: 'wb' },
  );
  t.equal(topo.node.try('ping', '-4', '-n', '-c1', '-W2', '-m', '1', '203.0.113.1').status, 0, 'marked IPv4 traffic flows via B');
  const status = JSON.parse(topo.node.exec(process.execPath, bin, 'status', '--json', '--status-file', join(topo.dir, 's.json'))) as {
    uplinks: { name: string; gateway?: string; gatewaySource?: string }[];
  };
  t.match(
    status.uplinks.find((u) => u.name === 'v4b'),
    { gateway: '198.51.100.1', gatewaySource: 'route' },
  );
});
