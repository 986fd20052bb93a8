/**
 * A leak probe for the WAN split: a sender in the node sends unmarked UDP datagrams to a host only table 1 routes
 * (203.0.113.7 and 2001:db8:ff::7, on the uplink's loopback), unbound and bound to the WAN address (gluon #520's
 * `from WANADDR lookup 1`), as fast as it can; plus marked ones (SO_MARK 0x1), which must arrive, so a quiet
 * capture means "nothing leaked", never "the capture was deaf". The uplink counts what arrives by kind.
 */
import type { ChildProcess } from 'node:child_process';
import { addAddress, stopProcess, type Teardowns, waitFor } from '../../../../test/lib/netns.js';
import type { TestNode } from './node.js';

const FAR4 = '203.0.113.7';
const FAR6 = '2001:db8:ff::7';
const PORT = 7777;

/** Sends until killed; errors (the gate's ENETUNREACH, the firewall's EPERM) are what should happen. */
const SENDER = `
import socket, sys, time
FAR = {4: ('${FAR4}', ${PORT}), 6: ('${FAR6}', ${PORT})}
WAN = {4: sys.argv[1], 6: sys.argv[2]}
def sock(family, bound, mark):
    s = socket.socket(socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_DGRAM)
    if mark:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 1)
    if bound:
        # IP_FREEBIND / IPV6_FREEBIND: the WAN address comes and goes with ifdown/ifup.
        s.setsockopt(socket.IPPROTO_IP if family == 4 else socket.IPPROTO_IPV6, 15 if family == 4 else 78, 1)
        s.bind((WAN[family], 0))
    return s
kinds = [(f'unmarked-{f}-{"bound" if b else "unbound"}', f, sock(f, b, False)) for f in (4, 6) for b in (False, True)]
marked = [(f'marked-{f}', f, sock(f, False, True)) for f in (4, 6)]
sent = 0
while True:
    for name, f, s in kinds + (marked if sent % 50 == 0 else []):
        try:
            s.sendto(name.encode(), FAR[f])
        except OSError:
            pass
    sent += 1
    if sent % 200 == 0:
        print(sent, flush=True)
    time.sleep(0.001)
`;

const LISTENER = `
import select, socket
socks = []
for family, addr in ((socket.AF_INET, '0.0.0.0'), (socket.AF_INET6, '::')):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, ${PORT}))
    socks.append(s)
print('listening', flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        print(s.recv(100).decode(), flush=True)
`;

export interface LeakProbe {
  /** Datagrams received per kind (`unmarked-4-bound`, `marked-6`, …). */
  readonly counts: Map<string, number>;
  /** Rounds the sender has made (each round: one datagram of every unmarked kind). */
  rounds(): number;
  /** Unmarked datagrams that reached the uplink. */
  leaked(): number;
  /** Resolves once one more marked datagram has arrived in each of `families` (default both). */
  markedArrive(families?: readonly ('4' | '6')[]): Promise<void>;
  stop(): Promise<void>;
}

/** Starts listener (uplink) and sender (node); resolves once both run and marked datagrams arrive. */
export async function startLeakProbe(t: Teardowns, n: TestNode, wan4: string, wan6: string): Promise<LeakProbe> {
  addAddress(n.uplink, 'lo', `${FAR4}/32`);
  addAddress(n.uplink, 'lo', `${FAR6}/128`);
  const counts = new Map<string, number>();
  let listening = false;
  const listener = n.uplink.spawn(t, 'python3', ['-u', '-c', LISTENER]);
  lines(listener, (l) => {
    if (l === 'listening') listening = true;
    else counts.set(l, (counts.get(l) ?? 0) + 1);
  });
  await waitFor('the leak listener', () => listening, 60_000);
  let rounds = 0;
  const sender = n.node.spawn(t, 'python3', ['-u', '-c', SENDER, wan4, wan6]);
  lines(sender, (l) => {
    rounds = Number(l);
  });
  const probe: LeakProbe = {
    counts,
    rounds: () => rounds,
    leaked: () => [...counts].filter(([k]) => k.startsWith('unmarked')).reduce((sum, [, v]) => sum + v, 0),
    markedArrive: async (families = ['4', '6']) => {
      const before = new Map(families.map((f) => [f, counts.get(`marked-${f}`) ?? 0]));
      await waitFor(
        `marked IPv${families.join('/IPv')} datagrams to reach the uplink (the capture hears)`,
        () => families.every((f) => (counts.get(`marked-${f}`) ?? 0) > (before.get(f) ?? 0)),
        60_000,
      );
    },
    stop: async () => {
      await stopProcess(sender);
      await stopProcess(listener);
    },
  };
  await probe.markedArrive();
  return probe;
}

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    for (const l of parts) if (l.trim() !== '') onLine(l.trim());
  });
}
