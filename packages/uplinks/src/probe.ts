/**
 * Probes through one uplink only: iputils ping with the uplink's own probe mark (`-m`, SO_MARK, which sends it
 * to the uplink's probe table) and bound to its device (`-I DEV`, SO_BINDTODEVICE), so an answer proves that
 * this uplink, and no other, reaches the target. As mwan3track's ping method, the reply count decides.
 */
import { type Child, type IpFamily, OsError, programs, timers } from '@meshwan/os';
import { ProbeError } from './errors.js';

export interface ProbeRequest {
  readonly uplink: string;
  readonly family: IpFamily;
  readonly device: string;
  readonly target: string;
  readonly mark: number;
  readonly timeoutMs: number;
  readonly count: number;
}

export interface ProbeResult {
  readonly target: string;
  readonly ok: boolean;
  /** average round trip of the answered echoes */
  readonly rttMs: number | undefined;
  /** `rtt 0.4 ms`, `no reply within 500 ms`, or ping's own complaint (`connect: Network is unreachable`) */
  readonly detail: string;
}

/** The ping command line for a probe (pure). `-W` takes fractional seconds in iputils ≥ 20190709. */
export function probeCommand(req: ProbeRequest, ping = 'ping'): string[] {
  const seconds = (req.timeoutMs / 1000).toFixed(3).replace(/\.?0+$/, '');
  return [
    ping,
    req.family === 6 ? '-6' : '-4',
    '-n',
    '-q',
    '-c',
    String(req.count),
    // Echoes of one round go out 0.2 s apart (the shortest interval iputils allows an unprivileged user).
    ...(req.count > 1 ? ['-i', '0.2'] : []),
    '-W',
    seconds,
    '-m',
    String(req.mark),
    '-I',
    req.device,
    req.target,
  ];
}

/** Reads ping's summary: `N received` and `rtt min/avg/max/mdev = a/b/c/d ms`. Pure. */
export function parsePingOutput(stdout: string): { received: number; rttMs: number | undefined } {
  const received = Number(/(\d+) (?:packets )?received/.exec(stdout)?.[1] ?? '0');
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(stdout)?.[1];
  return { received, rttMs: rtt === undefined ? undefined : Number(rtt) };
}

/** Runs one probe. A lost echo is a result (ok false); a ping that cannot start at all is a ProbeError. */
export async function runProbe(req: ProbeRequest, ping = 'ping'): Promise<ProbeResult> {
  const argv = probeCommand(req, ping);
  let child: Child;
  try {
    child = programs.spawn(argv, { input: '' });
  } catch (err: unknown) {
    const why = err instanceof OsError ? `${err.syscall} ${err.path ?? ''} ${err.code}`.replace(/\s+/g, ' ') : String(err);
    throw new ProbeError(req.uplink, argv, why);
  }
  // A ping stuck in a DNS lookup or a full socket buffer must not stall the round: kill it past its deadline.
  const deadline = timers.after(req.timeoutMs * req.count + 1000, () => child.kill('SIGKILL'));
  const { stdout, stderr } = await child.done;
  timers.clear(deadline);
  const { received, rttMs } = parsePingOutput(stdout);
  const complaint = stderr.trim().split('\n').pop() ?? '';
  const detail =
    received > 0 ? `rtt ${rttMs ?? '?'} ms` : complaint !== '' ? complaint.replace(/^ping: /, '') : `no reply within ${req.timeoutMs} ms`;
  return { target: req.target, ok: received > 0, rttMs, detail };
}
