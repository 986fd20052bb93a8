// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * Issue #17: after the VPN group's TCP lookups to a mesh address had ended, bare ACKs and RSTs from the client's
 * port left on mesh0 for the original destination. The kernel sends them without the group's socket owner (an
 * orphaned socket after close(), the TIME_WAIT or reset control socket), so raw OUTPUT does not put them in the
 * group's conntrack zone, they miss the NATed entry and leave as addressed. Here, on every backend, the group's
 * TCP lookups end in every way (client or server closing first, either side aborting, data after close) and a
 * capture on the mesh side proves that nothing of theirs reaches port 53 there, while another process's late
 * packets still reach the mesh server.
 */

import { spawnSync } from 'node:child_process';
import { type Firewall, IptablesBackend, NftBackend } from '@meshwan/iptables-wrapper';
import type { IpFamily } from '@meshwan/os';
import { defaultSite } from '@meshwan/site';
import t from 'tap';
import { addAddress, createNamespace, isRoot, link, type Namespace, type Teardowns, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { type Capture, startCapture } from '../../../test/lib/topo-capture.js';
import { firewallRuleset } from '../src/firewall.js';
import { parseNetwork } from '../src/network.js';
import { type EndMode, runScriptedClient, type ScriptedServer, startScriptedServer } from './lib/tcp-dns.js';

requireParts(!isRoot() ? 'needs root for network namespaces' : false);

t.setTimeout(300_000);

const backends: { name: string; make(netns: string): Firewall }[] = [
  { name: 'iptables-nft', make: (netns) => new IptablesBackend({ variant: 'nft', netns }) },
  { name: 'iptables-legacy', make: (netns) => new IptablesBackend({ variant: 'legacy', netns }) },
  { name: 'nft', make: (netns) => new NftBackend({ netns }) },
];
const group = ['--regid=800', '--clear-groups'];
const mesh = { 4: '203.0.113.53', 6: '2001:db8:ffff::53' } as const;
const marker = { 4: '203.0.113.9', 6: '2001:db8:ffff::9' } as const;

interface Topo {
  readonly node: Namespace;
  readonly meshNs: Namespace;
}

/** node --mesh0/peer0-- mesh; the mesh side owns the mesh DNS server's addresses and is the node's default route. */
function topology(t: Teardowns): Topo {
  const node = createNamespace(t, 'late');
  const meshNs = createNamespace(t, 'lmesh');
  link(
    { ns: node, dev: 'mesh0', addresses: ['198.51.100.5/24', 'fd00:1::5/64'] },
    { ns: meshNs, dev: 'peer0', addresses: ['198.51.100.1/24', 'fd00:1::1/64'] },
  );
  addAddress(meshNs, 'lo', `${mesh[4]}/32`);
  addAddress(meshNs, 'lo', `${mesh[6]}/128`);
  node.ip('route', 'add', 'default', 'via', '198.51.100.1');
  node.ip('-6', 'route', 'add', 'default', 'via', 'fd00:1::1');
  return { node, meshNs };
}

/**
 * A witness that the late packets were really sent: nft counts the TCP packets to port 53 that have no owning
 * process (no skuid), before raw OUTPUT, so the counter grows whether our rules then drop them or not.
 */
function installWitness(node: Namespace): () => number {
  const script = `table inet mw_witness {
  chain out {
    type filter hook output priority -400; policy accept;
    tcp dport 53 meta skuid 0-4294967294 accept
    tcp dport 53 counter
  }
}
`;
  const r = spawnSync('ip', ['netns', 'exec', node.name, 'nft', '-f', '-'], { input: script, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft witness: ${r.stderr}`);
  return () => Number(/counter packets (\d+)/.exec(node.exec('nft', 'list', 'chain', 'inet', 'mw_witness', 'out'))?.[1] ?? 'NaN');
}

/** Sends one UDP datagram to the mesh (port 9) as root and waits until the capture has it: everything sent before is in the capture too. */
async function flush(node: Namespace, cap: Capture, family: IpFamily, seen: number): Promise<number> {
  node.exec(
    'python3',
    '-c',
    `import socket; socket.socket(socket.${family === 4 ? 'AF_INET' : 'AF_INET6'}, socket.SOCK_DGRAM).sendto(b'marker', ('${marker[family]}', 9))`,
  );
  await waitFor('the marker on the mesh side', () => cap.count('udp port 9') > seen, 30_000);
  return cap.count('udp port 9');
}

for (const b of backends) {
  t.test(`${b.name}: nothing of the group's ended TCP lookups reaches port 53 on the mesh`, async (t) => {
    const { node, meshNs } = topology(t);
    const fw = b.make(node.name);
    await fw.apply(firewallRuleset(parseNetwork([]), defaultSite()));
    const forwarder: ScriptedServer = await startScriptedServer(t, node, 54, ['127.0.0.1', '::1']);
    const meshServer = await startScriptedServer(t, meshNs, 53, [mesh[4], mesh[6]]);
    const ownerless = installWitness(node);
    const cap = await startCapture(t, meshNs, 'peer0');
    let markers = 0;

    for (const family of [4, 6] as const) {
      const server = mesh[family];
      const before = ownerless();
      const seen = (event: string) => forwarder.lines().filter((l) => l.startsWith(event)).length;
      // dig closes first, the forwarder closes on EOF: the client's last ACK comes from its orphaned socket.
      const closed = seen('closed normal');
      const dig = node.try('setpriv', ...group, '--', 'dig', '+tcp', '+short', '+time=5', '+tries=1', `@${server}`, 'normal.test', 'A');
      t.equal(dig.status, 0, `dig +tcp @${server} as the group: ${dig.stderr}`);
      await forwarder.waitFor('closed normal', closed + 1);
      const cases: [EndMode, string][] = [
        ['normal', 'closed normal'],
        ['close', 'closed-first close'],
        ['rst', 'rst-sent rst'],
        ['client-rst', 'reset client-rst'],
        ['late', 'late-sent late'],
      ];
      for (const [mode, event] of cases) {
        const n = seen(event);
        const lines = runScriptedClient(node, group, server, mode);
        t.match(lines, ['answer'], `${family} ${mode}: the client got its answer from the forwarder`);
        await forwarder.waitFor(event, n + 1);
      }
      // The ends that make the client's kernel speak without an owner: the last ACKs of the two normal ends and
      // the late end's RST. Wait until they were sent, then until the mesh side has seen everything sent so far.
      await waitFor(`ownerless packets of the ${family} lookups`, () => ownerless() >= before + 3, 60_000);
      markers = await flush(node, cap, family, markers);
      t.same(
        cap.packets(`${family === 4 ? 'ip' : 'ip6'} and dst port 53`),
        [],
        `${family}: no packet of the group reached port 53 on the mesh`,
      );
      t.same(meshServer.lines().slice(1), [], `${family}: the mesh server saw no connection of the group`);
    }

    // Another process's lookups still go to the mesh, and its late, ownerless last ACK still gets there: the mesh
    // server's socket leaves LAST-ACK (it would retransmit its FIN for minutes if that ACK were dropped).
    for (const family of [4, 6] as const) {
      const dig = node.try('dig', '+tcp', '+short', '+time=5', '+tries=1', `@${mesh[family]}`, 'normal.test', 'A');
      t.equal(dig.status, 0, `root's dig +tcp @${mesh[family]}: ${dig.stderr}`);
    }
    await meshServer.waitFor('closed normal', 2);
    await waitFor(
      "the mesh server's sockets closed by the other process's last ACK",
      () => meshNs.exec('ss', '-Htan', 'state', 'last-ack').trim() === '',
      30_000,
    );
    t.ok(cap.count('dst port 53') > 0, "the other process's lookups went to the mesh");
    await fw.remove();
  });
}
