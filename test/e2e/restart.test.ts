// The daemon and the forwarder killed with SIGKILL and restarted as procd would (after the init script's respawn
// timeout): lookups may fail while the forwarder is gone, but nothing leaks in between, and both come back.
import t from 'tap';
import { waitFor } from '../lib/netns.js';
import { addr, answers } from '../lib/topology.js';
import { listening, lookupLoad } from '../sim/node.js';
import { removeFirmware, skipUnless, sleep, testNode, wholeNode } from './lib/harness.js';

t.teardown(removeFirmware);

t.test('SIGKILL of meshwan daemon and wan-dns, respawned: no leak in between', { skip: skipUnless(wholeNode) }, async (t) => {
  const node = await testNode(t);
  const { topo, gid } = node;
  const daemon = node.daemon;
  const wanDns = node.wanDns;
  if (!daemon || !wanDns) throw new Error('services missing');
  const mesh0 = await topo.capture('mesh0');
  const vpn = lookupLoad(topo, addr.meshDns6, gid);
  const vpn4 = lookupLoad(topo, addr.meshDns4, gid);
  const other = lookupLoad(topo, addr.meshDns6, undefined);
  await sleep(300);

  const daemonPid = daemon.pid();
  daemon.kill('SIGKILL');
  await sleep(200);
  t.match(topo.node.ip('-6', 'rule', 'show'), /fwmark/, 'the fwmark rule stays while the daemon is dead');
  await waitFor('the daemon respawned', () => daemon.pid() !== undefined && daemon.pid() !== daemonPid, 20_000);

  const dnsPid = wanDns.pid();
  wanDns.kill('SIGKILL');
  await waitFor('wan-dns respawned', () => wanDns.pid() !== undefined && wanDns.pid() !== dnsPid, 20_000);
  await waitFor('wan-dns listening again', () => listening(topo, '127.0.0.1', 54) && listening(topo, '[::1]', 54), 10_000);
  const before = vpn.current().total;
  await waitFor(
    'a VPN-group lookup answered again',
    () => vpn.current().total > before + 2 && vpn.current().last === answers.wanA.txt,
    10_000,
  );

  const [r6, r4, ro] = [await vpn.stop(), await vpn4.stop(), await other.stop()];
  await mesh0.stop();
  t.comment(
    `VPN-group lookups: ${r6.total + r4.total}, failed while the forwarder was down: ${r6.failures + r4.failures} (${[...new Set([...r6.failed, ...r4.failed])].join(', ')})`,
  );
  t.equal(daemon.respawns(), 1, 'the daemon was respawned once');
  t.equal(wanDns.respawns(), 1, 'wan-dns was respawned once');
  t.equal(r6.last, answers.wanA.txt, 'IPv6: the VPN group is answered by the WAN again');
  t.equal(r4.last, answers.wanA.txt, 'IPv4: the VPN group is answered by the WAN again');
  t.equal(ro.failures, 0, 'other processes never failed');
  t.equal(ro.last, answers.mesh.txt, 'other processes: the mesh');
  const queries = mesh0.packets('port 53');
  t.equal(queries.filter((l) => l.includes('vpnload-')).length, 0, 'no VPN-group query on mesh0, before, during or after the kills');
  t.ok(queries.filter((l) => l.includes('otherload-')).length > 0, 'the capture on mesh0 did see the other processes');
  t.equal(topo.unmarkedOnWan(), 0, 'no unmarked packet left through wan0');
});
