/**
 * DNS probes through one uplink (track_method 'dns'): a query for a configured name and type to the uplink's own
 * upstream DNS server, on a UDP socket carrying the uplink's probe mark (so it is routed by the uplink's probe
 * table, as ping's `-m` is). The socket, its mark (set and read back) and its datagrams go through the seam's
 * sockets (packages/os: the one marked-socket facility, on Node and QuickJS alike) and wan-dns's batch loop, with
 * buffers sized for a few small datagrams; a socket that cannot be marked never sends. A WAN that answers ping but not DNS is useless to the
 * mesh VPN, which resolves its peers' names through it. Any reply with the query's ID and question from the
 * server's address and port decides: NOERROR or NXDOMAIN is up; SERVFAIL, REFUSED, any other RCODE or no reply
 * within the timeout is down.
 */
import { type IpFamily, OsError, sockets, type TimerHandle, timers } from '@meshwan/os';
import { BatchIo, loadAddon, MarkError, markSocket, peerOf, random16 } from '@meshwan/wan-dns';
import { encodeQuery, judgeAnswer } from './dnswire.js';
import type { ProbeResult } from './probe.js';

export interface DnsProbeRequest {
  readonly uplink: string;
  readonly family: IpFamily;
  /** the DNS server (`fe80::1%wan` for a link-local one) */
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

/** No EDNS in our queries, so a reply is at most 512 bytes; a few queries of at most 275 bytes go out at once. */
const PROBE_SIZES = { slot: 512, sendBytes: 4096 };

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Sends `count` queries on one marked socket and resolves at the first verdict (or the timeout). Never rejects:
 * a socket that cannot be marked or a send error is a lost round with the reason, since an unmarked query must not
 * leave and an uplink that cannot be probed must not count as up.
 */
export function runDnsProbe(req: DnsProbeRequest): Promise<ProbeResult> {
  const port = req.port ?? 53;
  const started = timers.now();
  return new Promise((resolve) => {
    let fd = -1;
    let io: BatchIo | undefined;
    let timer: TimerHandle | undefined;
    let stray = '';
    let done = false;
    const finish = (ok: boolean, detail: string) => {
      if (done) return;
      done = true;
      if (timer !== undefined) timers.clear(timer);
      io?.close();
      if (fd >= 0) sockets.closeFd(fd);
      const rttMs = ok ? Math.round((timers.now() - started) * 10) / 10 : undefined;
      resolve({ target: req.target, ok, rttMs, detail });
    };
    const addon = loadAddon();
    if (addon instanceof MarkError) return finish(false, `not sent: ${addon.message}`);
    const [address = '', scope] = req.target.split('%');
    const peer = peerOf(addon, req.family, address, port, scope);
    if (peer === undefined) return finish(false, `not sent: ${req.target} is not an IPv${req.family} address`);
    let queries: Uint8Array[];
    try {
      queries = Array.from({ length: req.count }, () => encodeQuery(random16(), req.name, req.qtype));
      fd = addon.udpSocket(req.family, new Uint8Array(16), 0, 0);
    } catch (err: unknown) {
      return finish(false, `not sent: ${err instanceof OsError ? `${err.syscall} ${err.code}` : reason(err)}`);
    }
    // Marked and read back before the first send (gluon #3613): an unmarked probe would take the mesh or table 1.
    const markError = markSocket(addon, fd, req.mark);
    if (markError !== undefined) return finish(false, `not sent: ${markError.message}`);
    const batch = new BatchIo(addon, (err) => finish(false, `socket: ${reason(err)}`), PROBE_SIZES);
    io = batch;
    batch.add(fd, {
      onDatagram(msg, i) {
        if (!batch.sourceIs(i, peer)) {
          stray = `ignored a datagram from ${batch.sourceText(i)} port ${batch.sourcePort(i)}`;
          return;
        }
        for (const q of queries) {
          const j = judgeAnswer(q, msg);
          if (!j.ours) {
            stray = `ignored a reply: ${j.why}`;
            continue;
          }
          const rtt = Math.round((timers.now() - started) * 10) / 10;
          finish(j.ok, j.ok ? `${j.rcode} in ${rtt} ms` : `${j.rcode} from ${req.target}`);
          return;
        }
      },
      onTruncated() {
        stray = 'ignored a datagram longer than 512 bytes';
      },
    });
    timer = timers.after(req.timeoutMs, () => finish(false, `no DNS reply within ${req.timeoutMs} ms${stray ? ` (${stray})` : ''}`));
    for (const q of queries) batch.sendTo(fd, peer, q);
    // sendmmsg reports no errno per datagram: the kernel refusing every query (no route, firewall) ends the round.
    if (batch.sendFailures >= queries.length) finish(false, `send: the kernel refused all ${queries.length} queries to ${req.target}`);
  });
}
