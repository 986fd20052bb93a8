// tier: root: network namespaces, SO_MARK or firewall rules
/** No loop with the mesh-VPN group's DNS redirect: a redirected lookup is answered exactly once. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { commandExists } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { digIn } from './lib/client.js';
import { bin, createTopo, forwarderArgs, missingPart, resolverV4, startWanDns } from './lib/topo.js';

requireParts(missingPart, !commandExists('nft') && 'needs nft');

// Namespaces, NSD and real timeouts on a shared, busy machine: more than tap's default 30 s per file.
t.setTimeout(600_000);

t.test('the mesh-VPN group: its redirected lookup is answered exactly once; wan-dns refuses to run in it', async (t) => {
  const topo = await createTopo(t);
  const cap = await topo.capture('wan0');
  // The firewall's redirect of the VPN group's DNS (Gluon: gluon-mesh-vpn, gid 800) to the forwarder.
  const rules = join(topo.dir, 'redirect.nft');
  writeFileSync(
    rules,
    [
      'table ip wandns {',
      '  chain out {',
      '    type nat hook output priority -100;',
      '    meta skgid 800 udp dport 53 redirect to :54',
      '    meta skgid 800 tcp dport 53 redirect to :54',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  topo.node.exec('nft', '-f', rules);
  await startWanDns(t, topo, forwarderArgs({ servers: [resolverV4], control: join(topo.dir, 'control') }));
  const name = `loop-${process.pid}.example.test`;
  const r = await digIn(['ip', 'netns', 'exec', topo.node.name, 'setpriv', '--regid=800', '--clear-groups'], resolverV4, 53, name, 'TXT');
  t.equal(r.status, 'NOERROR');
  t.match(r.records[0], /"wan"/, 'redirected to wan-dns, answered from the WAN, not the mesh');
  await new Promise((res) => setTimeout(res, 300));
  await cap.stop();
  const lines = cap.packets('port 53');
  t.equal(lines.filter((l) => l.includes(`> ${resolverV4}.53:`) && l.includes(name)).length, 1, 'exactly one upstream query');
  t.equal(lines.filter((l) => l.includes(`${resolverV4}.53 >`) && l.includes('"wan"')).length, 1, 'exactly one answer');
  const inGroup = topo.node.try('setpriv', '--regid=800', '--clear-groups', process.execPath, bin, '--listen', '127.0.0.1:5455');
  t.equal(inGroup.status, 1);
  t.match(inGroup.stderr, /group: running in the mesh-VPN group \(gid 800\)/);
});
