/**
 * The forwarder's sockets: is something listening on the wan_dns listen endpoints of /etc/config/meshwan (/proc/net/udp, udp6,
 * tcp, tcp6 of the current namespace), and does every other socket of that process carry the WAN mark (`ss -e`
 * prints fwmark, from sock_diag's INET_DIAG_MARK)? A forwarder socket without the mark is gluon #3613: its
 * upstream queries would go wherever main routes them. Parsers are pure; the readers are thin.
 */
import { files, type IpFamily, programs } from '@meshwan/os';

export interface ProcSocket {
  readonly family: IpFamily;
  readonly protocol: 'udp' | 'tcp';
  readonly addr: bigint;
  readonly port: number;
  /** st: 07 (TCP_CLOSE) for an unconnected UDP socket, 0A (TCP_LISTEN) for a listening TCP one. */
  readonly state: number;
  readonly inode: number;
}

/** One /proc/net/{udp,tcp}{,6} table. Addresses are the kernel's u32 words in host (little-endian) order. */
export function parseProcNet(text: string, family: IpFamily, protocol: 'udp' | 'tcp'): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    const st = f[3];
    const inode = f[9];
    if (!local || !st || !inode) continue;
    const [hexAddr = '', hexPort = ''] = local.split(':');
    let addr = 0n;
    for (let i = 0; i < hexAddr.length; i += 8) {
      const word = hexAddr.slice(i, i + 8);
      // each 32-bit word is printed as the host sees it: reverse its bytes to get network order
      const bytes = word.match(/../g)?.reverse().join('') ?? '0';
      addr = (addr << 32n) | BigInt(`0x${bytes}`);
    }
    out.push({ family, protocol, addr, port: Number.parseInt(hexPort, 16), state: Number.parseInt(st, 16), inode: Number(inode) });
  }
  return out;
}

export function readProcSockets(procNet = '/proc/net'): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const [file, family, protocol] of [
    ['udp', 4, 'udp'],
    ['udp6', 6, 'udp'],
    ['tcp', 4, 'tcp'],
    ['tcp6', 6, 'tcp'],
  ] as const) {
    try {
      out.push(...parseProcNet(files.readText(`${procNet}/${file}`), family, protocol));
    } catch {
      // a kernel without IPv6 has no udp6: nothing listens there
    }
  }
  return out;
}

/** Whether a socket serves `family addr:port`: bound to it or to the wildcard, and listening (TCP) or unconnected (UDP). */
export function listensOn(sockets: readonly ProcSocket[], protocol: 'udp' | 'tcp', family: IpFamily, addr: bigint, port: number): boolean {
  return sockets.some(
    (s) =>
      s.protocol === protocol &&
      s.port === port &&
      (s.addr === addr || s.addr === 0n) &&
      (s.family === family || (family === 4 && s.family === 6 && s.addr === 0n)) &&
      s.state === (protocol === 'udp' ? 0x07 : 0x0a),
  );
}

export interface SsSocket {
  readonly protocol: string;
  readonly local: string;
  readonly port: number;
  readonly pids: readonly number[];
  readonly fwmark: number;
}

/** `ss -Hanep -u -t` lines: netid state recv send local peer users:((…)) … fwmark:0x1 … */
export function parseSs(text: string): SsSocket[] {
  const out: SsSocket[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const local = f[4];
    if (!f[0] || !local) continue;
    const colon = local.lastIndexOf(':');
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    const mark = /fwmark:(0x[0-9a-f]+)/.exec(line)?.[1];
    out.push({ protocol: f[0], local: local.slice(0, colon), port: Number(local.slice(colon + 1)), pids, fwmark: mark ? Number(mark) : 0 });
  }
  return out;
}

/** Runs ss; undefined when it is missing (OpenWrt without ip-full's ss): the mark check is then skipped, and said so. */
export function readSs(): SsSocket[] | undefined {
  if (programs.which('ss') === undefined) return undefined;
  const r = programs.runSync(['ss', '-Hanep', '-u', '-t']);
  if (r.code !== 0) return undefined;
  return parseSs(r.stdout);
}

/** Sockets of the processes that own a listening socket on `port`, other than their listening sockets. */
export function forwarderOtherSockets(sockets: readonly SsSocket[], port: number): SsSocket[] {
  const pids = new Set(sockets.filter((s) => s.port === port).flatMap((s) => s.pids));
  return sockets.filter((s) => s.port !== port && s.pids.some((p) => pids.has(p)));
}
