/**
 * Probes through one uplink only: iputils ping with the uplink's own probe mark (`-m`, SO_MARK, which sends it
 * to the uplink's probe table) and bound to its device (`-I DEV`, SO_BINDTODEVICE), so an answer proves that
 * this uplink, and no other, reaches the target. As mwan3track's ping method, the reply count decides.
 */
import { spawn } from 'node:child_process';
import type { IpFamily } from '@meshwan/os';
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
export function runProbe(req: ProbeRequest, ping = 'ping'): Promise<ProbeResult> {
  const [command, ...args] = probeCommand(req, ping);
  return new Promise((resolve, reject) => {
    const child = spawn(command ?? 'ping', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    // A ping stuck in a DNS lookup or a full socket buffer must not stall the round: kill it past its deadline.
    const deadline = setTimeout(() => child.kill('SIGKILL'), req.timeoutMs * req.count + 1000);
    child.on('error', (err: Error) => {
      clearTimeout(deadline);
      reject(new ProbeError(req.uplink, [command ?? 'ping', ...args], err.message));
    });
    child.on('close', () => {
      clearTimeout(deadline);
      const { received, rttMs } = parsePingOutput(stdout);
      const complaint = stderr.trim().split('\n').pop() ?? '';
      const detail =
        received > 0
          ? `rtt ${rttMs ?? '?'} ms`
          : complaint !== ''
            ? complaint.replace(/^ping: /, '')
            : `no reply within ${req.timeoutMs} ms`;
      resolve({ target: req.target, ok: received > 0, rttMs, detail });
    });
  });
}
