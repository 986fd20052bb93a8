// The WAN's DNS server changes under load (the resolv file rewritten as the hotplug hook does after a DHCP renew,
// then the forwarder told with SIGHUP, as procd's reload does): zero failed lookups, and the new server answers.
import t from 'tap';
import { addr, answers } from '../lib/topology.js';
import { lookupLoad } from '../sim/node.js';
import { removeFirmware, skipUnless, sleep, testNode, wholeNode } from './lib/harness.js';

t.teardown(removeFirmware);

t.test('WAN DNS server changed under load: zero failed lookups', { skip: skipUnless(wholeNode) }, async (t) => {
  const node = await testNode(t);
  const { topo, gid } = node;
  const loads = [lookupLoad(topo, addr.meshDns6, gid), lookupLoad(topo, addr.meshDns4, gid), lookupLoad(topo, addr.meshDns6, gid)];
  await sleep(500);
  topo.wan.setStaticDns([addr.wanDnsB4, addr.wanDnsB6]);
  node.wanDns?.kill('SIGHUP');
  for (let i = 0; i < 50 && !loads.every((l) => l.current().last === answers.wanB.txt); i++) await sleep(100);
  await sleep(500);
  const results = await Promise.all(loads.map((l) => l.stop()));
  const total = results.reduce((n, r) => n + r.total, 0);
  const failures = results.reduce((n, r) => n + r.failures, 0);
  t.ok(total > 20, `the load ran (${total} lookups)`);
  t.equal(failures, 0, `zero failed lookups (${[...new Set(results.flatMap((r) => r.failed))].join(', ')})`);
  for (const r of results) t.equal(r.last, answers.wanB.txt, 'the new server answers');
  // The old server may go away now: nothing depends on it any more.
  await topo.nsd.wanA.stop();
  t.same(topo.dig(addr.meshDns6, topo.probeName('after'), { gid }).answers, [answers.wanB.txt], 'answered with the old server gone');
  t.equal(topo.unmarkedOnWan(), 0, 'no unmarked packet left through wan0');
});
