/**
 * dig, the independent DNS witness of every suite: one way to build its command line and one way to read its
 * output, for the topology (test/e2e, make sim), wan-dns, policy and iptables-wrapper. dig runs on the host, in a
 * namespace (`ip netns exec`), or under setpriv with another gid/uid (the mesh-VPN group), synchronously or not.
 */
import { execFile, spawnSync } from 'node:child_process';

export interface DigQuery {
  readonly server: string;
  readonly name: string;
  /** Record type (default A). */
  readonly type?: string;
  /** Server port (default dig's 53). */
  readonly port?: number;
  readonly tcp?: boolean;
  /** Seconds per try (default 2); one try only, so a lost answer reads as TIMEOUT rather than a retry. */
  readonly timeoutSeconds?: number;
  /** Run dig with this real and effective gid and no supplementary groups (setpriv), e.g. the VPN group's 800. */
  readonly gid?: number;
  readonly uid?: number;
  /** setpriv's options as they are (e.g. `--groups=800`), for what gid and uid do not say. */
  readonly setpriv?: readonly string[];
  /** More dig options, e.g. '+bufsize=512' or '+ignore'. */
  readonly options?: readonly string[];
  /** Where dig runs: a namespace name (`ip netns exec NAME`); default the host. */
  readonly netns?: string;
}

export interface DigResult {
  /** dig's status: NOERROR, SERVFAIL, NXDOMAIN, REFUSED, or TIMEOUT when no answer came (ERROR: dig failed). */
  readonly status: string;
  /** The header's flags, e.g. `qr rd ra` (with `tc` for a truncated answer). */
  readonly flags: string;
  /** The answer section's lines as dig prints them (name, TTL, class, type, data). */
  readonly records: string[];
  /** The answer section's data fields (TXT strings without quotes). */
  readonly answers: string[];
  /** Everything dig printed (stdout and stderr). */
  readonly output: string;
}

/** The argv (command first) that runs the query: [ip netns exec NS] [setpriv ... --] dig ... */
export function digArgv(q: DigQuery): string[] {
  const privOptions = [
    ...(q.gid === undefined ? [] : [`--regid=${q.gid}`, '--clear-groups']),
    ...(q.uid === undefined ? [] : [`--reuid=${q.uid}`]),
    ...(q.setpriv ?? []),
  ];
  const priv = privOptions.length === 0 ? [] : ['setpriv', ...privOptions, '--'];
  const args = [
    `+time=${q.timeoutSeconds ?? 2}`,
    '+tries=1',
    ...(q.tcp ? ['+tcp'] : []),
    ...(q.options ?? []),
    ...(q.port === undefined ? [] : ['-p', String(q.port)]),
    `@${q.server}`,
    q.name,
    q.type ?? 'A',
  ];
  return [...(q.netns === undefined ? [] : ['ip', 'netns', 'exec', q.netns]), ...priv, 'dig', ...args];
}

/** Reads dig's full output (or `+noall +comments +answer`); `exitStatus` 9 is dig's "no reply". */
export function parseDig(output: string, exitStatus: number | null): DigResult {
  const status =
    /status: ([A-Z]+)/.exec(output)?.[1] ??
    (exitStatus === 9 || /timed out|no servers could be reached/.test(output) ? 'TIMEOUT' : 'ERROR');
  const flags = /;; flags: ([a-z ]+);/.exec(output)?.[1] ?? '';
  const section = output.split(';; ANSWER SECTION:\n')[1]?.split('\n\n')[0] ?? '';
  const records = section.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';'));
  const answers = records
    .map((l) =>
      l
        .split(/\s+/)
        .slice(4)
        .join(' ')
        .replace(/^"(.*)"$/, '$1'),
    )
    .filter((a) => a !== '');
  return { status, flags, records, answers, output };
}

/** Runs the query, blocking (for tests that need no event loop meanwhile). */
export function digSync(q: DigQuery): DigResult {
  const [command = 'dig', ...args] = digArgv(q);
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return parseDig(`${r.stdout}${r.stderr}`, r.status);
}

/** Runs the query without blocking the event loop (the daemon under test may run in this very process). */
export function dig(q: DigQuery): Promise<DigResult> {
  return runDig(digArgv(q));
}

/** Runs a dig argv (digArgv's, perhaps behind a caller's own prefix) without blocking. */
export function runDig(argv: readonly string[]): Promise<DigResult> {
  const [command = 'dig', ...args] = argv;
  return new Promise((done) => {
    execFile(command, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      const status = err && typeof err.code === 'number' ? err.code : err ? null : 0;
      done(parseDig(`${stdout}${stderr}`, status));
    });
  });
}
