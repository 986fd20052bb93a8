// Drift made by hand and repaired by `meshwan daemon`: the table-1 unreachable route deleted, a WAN route put
// into main, the fwmark rule deleted, and the VPN group's firewall redirect removed. Each is checked with ip or
// nft/iptables (not with meshwan's own view), and the VPN group is answered by the WAN again afterwards.
import t from 'tap';
import { type Namespace, waitFor } from '../lib/netns.js';
import { addr, answers, type Topology } from '../lib/topology.js';
import { removeFirmware, skipUnless, testNode, wholeNode } from './lib/harness.js';

t.teardown(removeFirmware);

const unreachable = (topo: Topology) => /unreachable default .*metric 65535/.test(topo.node.ip('-6', 'route', 'show', 'table', '1'));
const fwmarkRule = (topo: Topology) => /fwmark 0x1\/0x1 lookup 1/.test(topo.node.ip('-6', 'rule', 'show'));

/** Removes the redirect the way a person would: the jump into meshwan's chain (iptables) or its rules (nft). */
function removeRedirect(ns: Namespace): string {
  const nft = ns.try('nft', 'list', 'table', 'inet', 'meshwan');
  if (nft.status === 0 && /dnat|redirect/i.test(nft.stdout)) {
    ns.exec('nft', 'flush', 'table', 'inet', 'meshwan');
    return 'nft flush table inet meshwan';
  }
  const done: string[] = [];
  for (const tool of ['iptables', 'ip6tables']) {
    for (const line of ns.exec(tool, '-w', '-t', 'nat', '-S', 'OUTPUT').split('\n')) {
      if (!/-j meshwan_/.test(line)) continue;
      ns.exec(tool, '-w', '-t', 'nat', ...line.replace(/^-A /, '-D ').split(' '));
      done.push(`${tool} -t nat ${line.replace(/^-A /, '-D ')}`);
    }
  }
  if (done.length === 0) throw new Error('no meshwan redirect found in nft or iptables');
  return done.join('; ');
}

function redirectPresent(ns: Namespace): boolean {
  const nft = ns.try('nft', 'list', 'table', 'inet', 'meshwan');
  if (nft.status === 0 && /dnat|redirect/i.test(nft.stdout)) return true;
  return ['iptables', 'ip6tables'].every((tool) => /-j meshwan_/.test(ns.exec(tool, '-w', '-t', 'nat', '-S', 'OUTPUT')));
}

t.test('drift made by hand is repaired by meshwan daemon', { skip: skipUnless(wholeNode) }, async (t) => {
  const node = await testNode(t);
  const { topo, gid } = node;
  const answeredByWan = () => topo.dig(addr.meshDns6, topo.probeName('vpn'), { gid }).answers[0] === answers.wanA.txt;
  t.ok(answeredByWan(), 'the VPN group is answered by the WAN before any drift');

  t.ok(unreachable(topo), 'table 1 has unreachable ::/0 metric 65535');
  topo.node.ip('-6', 'route', 'del', 'unreachable', 'default', 'metric', '65535', 'table', '1');
  await waitFor('the unreachable route repaired', () => unreachable(topo), 5000);
  t.pass('table 1: unreachable ::/0 metric 65535 deleted by hand and repaired');

  topo.node.ip('-6', 'route', 'add', '2001:db8:2::/64', 'via', addr.ispRouterLL, 'dev', 'wan0', 'table', 'main');
  await waitFor(
    'the WAN route gone from main',
    () => !topo.node.ip('-6', 'route', 'show', 'table', 'main').includes('2001:db8:2::/64'),
    5000,
  );
  t.pass('a WAN route added to main by hand is taken out of main');

  t.ok(fwmarkRule(topo), 'the fwmark rule is there');
  topo.node.ip('-6', 'rule', 'del', 'fwmark', '0x1/0x1', 'lookup', '1');
  await waitFor('the fwmark rule repaired', () => fwmarkRule(topo), 5000);
  t.pass('the fwmark rule deleted by hand and repaired');

  t.ok(redirectPresent(topo.node), 'the redirect is there');
  const how = removeRedirect(topo.node);
  t.comment(`removed: ${how}`);
  await waitFor('the redirect repaired', () => redirectPresent(topo.node), 5000);
  t.pass('the redirect removed by hand is repaired');

  await waitFor('the VPN group answered by the WAN again', answeredByWan, 5000);
  t.pass('the VPN group is answered by the WAN again');
  t.equal(topo.unmarkedOnWan(), 0, 'no unmarked packet left through wan0');
});
