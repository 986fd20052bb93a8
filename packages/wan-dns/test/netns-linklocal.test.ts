// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * A link-local upstream from the resolv file (`nameserver fe80::53%wan0`, as Gluon's update.lua writes the
 * WAN's RA/DHCPv6 servers): reached on the scoped interface, with the mark.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { addAddress } from '../../../test/lib/netns.js';
import { startNsd } from '../../../test/lib/nsd.js';
import { requireParts } from '../../../test/lib/require.js';
import { digIn } from './lib/client.js';
import { createTopo, forwarderArgs, missingPart, startWanDns, status } from './lib/topo.js';
import { exampleZone } from './lib/zone.js';

requireParts(missingPart);

// Namespaces, NSD and real timeouts on a shared, busy machine: more than tap's default 30 s per file.
t.setTimeout(600_000);

t.test('a link-local upstream with a %dev scope answers through wan-dns', async (t) => {
  const topo = await createTopo(t);
  addAddress(topo.isp, 'isp0', 'fe80::53/64');
  addAddress(topo.node, 'wan0', 'fe80::2/64');
  await startNsd(t, exampleZone('wan-ll'), { addresses: ['fe80::53%isp0'], port: 53, ns: topo.isp });
  const resolv = join(topo.dir, 'resolv.conf');
  writeFileSync(resolv, 'nameserver fe80::53%wan0\n');
  const control = join(topo.dir, 'control');
  await startWanDns(t, topo, forwarderArgs({ resolvFile: resolv, root: join(topo.dir, 'none'), control }));
  const r = await digIn(['ip', 'netns', 'exec', topo.node.name], '127.0.0.1', 54, 'who.example.test', 'TXT');
  t.equal(r.status, 'NOERROR');
  t.match(r.records[0], /"wan-ll"/, 'answered by the link-local server');
  const report = JSON.parse(status(topo, control)) as { servers: { server: string; answers: number }[] };
  t.equal(report.servers[0]?.server, '[fe80::53%wan0]:53');
  t.equal(report.servers[0]?.answers, 1);
});
