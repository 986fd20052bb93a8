/**
 * DNS probes through one uplink (track_method 'dns'): a query for a configured name and type to the uplink's own
 * upstream DNS server, on a UDP socket carrying the uplink's probe mark (so it is routed by the uplink's probe
 * table, as ping's `-m` is). The mark is set and read back through the netio addon (packages/os) (the one marked-socket
 * facility); a socket that cannot be marked never sends. A WAN that answers ping but not DNS is useless to the
 * mesh VPN, which resolves its peers' names through it. Any reply with the query's ID and question from the
 * server's address and port decides: NOERROR or NXDOMAIN is up; SERVFAIL, REFUSED, any other RCODE or no reply
 * within the timeout is down.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { IpFamily } from '@meshwan/os';
import { dgramFd, loadAddon, markSocket } from '@meshwan/wan-dns';
import { encodeQuery, judgeAnswer } from './dnswire.js';
import type { ProbeResult } from './probe.js';

export interface DnsProbeRequest {
  readonly uplink: string;
  readonly family: IpFamily;
  /** the DNS server */
  readonly target: string;
  readonly mark: number;
  readonly timeoutMs: number;
  /** queries per round (each with its own ID); one valid reply is enough */
  readonly count: number;
  /** the name asked, e.g. `.` or `example.org` */
  readonly name: string;
  readonly qtype: number;
  /** 53 on a node; tests may point elsewhere */
  readonly port?: number;
}

/** Strips an IPv4-mapped prefix so a sender's address compares with the target as written. */
function plainAddress(address: string): string {
  return address.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

/**
 * Sends `count` queries on one marked socket and resolves at the first verdict (or the timeout). Never rejects:
 * a socket that cannot be marked or a send error is a lost round with the reason, since an unmarked query must not
 * leave and an uplink that cannot be probed must not count as up.
 */
export function runDnsProbe(req: DnsProbeRequest): Promise<ProbeResult> {
  const port = req.port ?? 53;
  const started = performance.now();
  return new Promise((resolve) => {
    let socket: Socket | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stray = '';
    const finish = (ok: boolean, detail: string) => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const s = socket;
      socket = undefined;
      if (s === undefined) return;
      s.close();
      const rttMs = ok ? Math.round((performance.now() - started) * 10) / 10 : undefined;
      resolve({ target: req.target, ok, rttMs, detail });
    };
    const s = createSocket({ type: req.family === 6 ? 'udp6' : 'udp4' });
    socket = s;
    const queries = Array.from({ length: req.count }, () => encodeQuery(randomInt(0, 0x10000), req.name, req.qtype));
    s.on('error', (err: Error) => finish(false, `socket: ${err.message}`));
    s.on('message', (msg: Buffer, from) => {
      if (plainAddress(from.address) !== plainAddress(req.target) || from.port !== port) {
        stray = `ignored a datagram from ${from.address} port ${from.port}`;
        return;
      }
      for (const q of queries) {
        const j = judgeAnswer(q, msg);
        if (!j.ours) {
          stray = `ignored a reply: ${j.why}`;
          continue;
        }
        const rtt = Math.round((performance.now() - started) * 10) / 10;
        finish(j.ok, j.ok ? `${j.rcode} in ${rtt} ms` : `${j.rcode} from ${req.target}`);
        return;
      }
    });
    s.bind(0, () => {
      // Marked and read back before the first send (gluon #3613): an unmarked probe would take the mesh or table 1.
      const err = markSocket(loadAddon(), dgramFd(s), req.mark);
      if (err !== undefined) {
        finish(false, `not sent: ${err.message}`);
        return;
      }
      timer = setTimeout(() => finish(false, `no DNS reply within ${req.timeoutMs} ms${stray ? ` (${stray})` : ''}`), req.timeoutMs);
      for (const q of queries) {
        try {
          s.send(q, port, req.target, (sendErr: Error | null) => {
            if (sendErr) finish(false, `send: ${sendErr.message}`);
          });
        } catch (sendErr: unknown) {
          finish(false, `send: ${sendErr instanceof Error ? sendErr.message : String(sendErr)}`);
          return;
        }
      }
    });
  });
}
