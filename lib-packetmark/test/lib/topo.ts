/**
 * The routing topology of the lib-packetmark tests: a client namespace with two uplinks, and one target address
 * (203.0.113.1, 2001:db8:7::1) that lives on both peers. The client's main table routes it to peer A, table 1 to
 * peer B, and `fwmark 0x1/0x1 lookup 1` picks table 1 for marked packets, as on a node (mesh in main, WAN in table 1).
 *
 *   client ca 198.51.100.1/30 fd00:a::1 ---- aa 198.51.100.2/30 fd00:a::2  peer A (main)     lo: target
 *          cb 198.51.100.5/30 fd00:b::1 ---- bb 198.51.100.6/30 fd00:b::2  peer B (table 1)  lo: target
 *
 * Each peer runs fixtures/peer.mjs (its name over HTTP/8080 and UDP/7000) and dnsmasq (example.test resolves to
 * a peer-specific address), and counts arriving packets in named nft counters: the independent witness.
 */
import { spawnSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { createGluonNode } from '../../../test/lib/gluon-node.js';
import { type Namespace, onLines, run, type Teardowns, waitFor } from '../../../test/lib/netns.js';

export const target4 = '203.0.113.1';
export const target6 = '2001:db8:7::1';
/** What each peer's dnsmasq answers for example.test. */
export const answers = { a: ['192.0.2.65', '2001:db8:a::65'], b: ['192.0.2.66', '2001:db8:b::66'] } as const;
const counterNames = ['udp53', 'tcp53', 'udp7000', 'tcp8080'] as const;
type Counters = Record<(typeof counterNames)[number], number>;

const witness = `table inet witness {
  counter udp53 {}
  counter tcp53 {}
  counter udp7000 {}
  counter tcp8080 {}
  chain input {
    type filter hook input priority 0; policy accept;
    udp dport 53 counter name "udp53"
    tcp dport 53 tcp flags syn counter name "tcp53"
    udp dport 7000 counter name "udp7000"
    tcp dport 8080 tcp flags syn counter name "tcp8080"
  }
}
`;

export interface Topology {
  client: Namespace;
  a: Namespace;
  b: Namespace;
}

function startPeer(t: Teardowns, ns: Namespace, name: 'a' | 'b'): Promise<void> {
  run('ip', ['netns', 'exec', ns.name, 'nft', '-f', '-'], witness);
  const peer = ns.spawn(t, process.execPath, [new URL('../fixtures/peer.mjs', import.meta.url).pathname, `peer-${name}`]);
  const dns = ns.spawn(t, 'dnsmasq', [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--pid-file=',
    '--user=root',
    '--bind-interfaces',
    `--listen-address=${target4}`,
    `--listen-address=${target6}`,
    ...answers[name].map((addr) => `--address=/example.test/${addr}`),
  ]);
  dns.stderr?.resume();
  return Promise.all([
    waitForLine(peer.stdout, 'ready'),
    waitFor(`dnsmasq in ${ns.name}`, () => ns.try('ss', '-Hlun', 'sport = :53').stdout.trim() !== ''),
  ]).then(() => undefined);
}

function waitForLine(stream: Readable | null, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!stream) return reject(new Error('no stdout'));
    const seen: string[] = [];
    onLines(stream, (l) => {
      seen.push(l);
      if (l === line) resolve();
    });
    stream.on('end', () => reject(new Error(`stream ended before "${line}": ${seen.join('\n')}`)));
  });
}

export async function buildTopology(t: Teardowns): Promise<Topology> {
  // Peer A plays the mesh (main), peer B the WAN (table 1). Replies from peer B arrive on cb while the main table
  // points the target at ca: strict rp_filter would drop them.
  const loopback = [`${target4}/32`, `${target6}/128`];
  const route = (table?: number) => ({ to: loopback, table });
  const {
    node: client,
    mesh: a,
    wan: b,
  } = createGluonNode(t, {
    label: 'pmc',
    sysctls: { 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.default.rp_filter': '0' },
    mesh: {
      label: 'pma',
      dev: 'ca',
      peerDev: 'aa',
      nets: ['198.51.100.0/30', 'fd00:a::/64'],
      node: 1,
      peer: 2,
      loopback,
      route: route(),
      routeBack: true,
    },
    wans: [
      {
        label: 'pmb',
        dev: 'cb',
        peerDev: 'bb',
        nets: ['198.51.100.4/30', 'fd00:b::/64'],
        node: 1,
        peer: 2,
        loopback,
        route: route(1),
        routeBack: true,
      },
    ],
    split: { pref: 100, families: [4, 6], floor: false },
  });
  await Promise.all([startPeer(t, a, 'a'), startPeer(t, b, 'b')]);
  return { client, a, b };
}

/** The witness counters of one peer (packets). */
function counters(ns: Namespace): Counters {
  const json = JSON.parse(ns.exec('nft', '-j', 'list', 'counters')) as { nftables: { counter?: { name: string; packets: number } }[] };
  const out: Counters = { udp53: 0, tcp53: 0, udp7000: 0, tcp8080: 0 };
  for (const item of json.nftables) {
    const c = item.counter;
    if (c && (counterNames as readonly string[]).includes(c.name)) out[c.name as keyof Counters] = c.packets;
  }
  return out;
}

export interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Packets each peer counted while the command ran. */
  a: Counters;
  b: Counters;
}

/** Runs `command args` in the client namespace with exactly `env` (env -i), and returns what each peer counted. */
export function runInClient(topo: Topology, env: Record<string, string>, command: string, args: readonly string[]): Outcome {
  const before = { a: counters(topo.a), b: counters(topo.b) };
  const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const r = spawnSync('ip', ['netns', 'exec', topo.client.name, 'env', '-i', ...pairs, command, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.error) throw r.error;
  const delta = (now: Counters, then: Counters): Counters => ({
    udp53: now.udp53 - then.udp53,
    tcp53: now.tcp53 - then.tcp53,
    udp7000: now.udp7000 - then.udp7000,
    tcp8080: now.tcp8080 - then.tcp8080,
  });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    a: delta(counters(topo.a), before.a),
    b: delta(counters(topo.b), before.b),
  };
}
