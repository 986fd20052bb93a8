/**
 * A real authoritative DNS server (NSD) inside a test namespace, serving the zone `meshwan.test.` with answers that
 * name the server that gave them (TXT "wan-a", A 203.0.113.80, ...), so every answer shows which way a lookup went.
 * Each instance has its own config, zone, pid file and state in a temp dir; it runs in the foreground (-d) and is
 * stopped by PID at teardown.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Namespace, stopProcess, type Teardowns, waitFor } from './netns.js';

/** The test zone every server of the topology serves, with different data per server. */
export const testZone = 'meshwan.test';

/** What one server answers for `probe.meshwan.test` and for any `*.meshwan.test` (a wildcard, so per-step names work). */
export interface ZoneAnswers {
  /** TXT string naming the server, e.g. "wan-a" or "mesh". */
  txt: string;
  a: string;
  aaaa: string;
}

export interface NsdServer {
  /** Addresses the server listens on (port 53). */
  readonly addresses: readonly string[];
  readonly answers: ZoneAnswers;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The zone file text: SOA, NS, and the probe and wildcard records. TTL 0 so no cache anywhere hides a change. */
function zoneText(answers: ZoneAnswers): string {
  return [
    `$ORIGIN ${testZone}.`,
    '$TTL 0',
    '@ IN SOA ns hostmaster 1 3600 600 86400 0',
    '@ IN NS ns',
    'ns IN A 192.0.2.1',
    `@ IN TXT "${answers.txt}"`,
    ...['probe', '*'].flatMap((name) => [
      `${name} IN TXT "${answers.txt}"`,
      `${name} IN A ${answers.a}`,
      `${name} IN AAAA ${answers.aaaa}`,
    ]),
    '',
  ].join('\n');
}

/**
 * Starts NSD in `ns` on `addresses` (which must already be assigned there) and resolves once it answers over UDP
 * on the first address. Its stop (by PID) is registered with `t` first.
 */
export async function startNsd(
  t: Teardowns,
  ns: Namespace,
  addresses: readonly string[],
  answers: ZoneAnswers,
  parent = tmpdir(),
): Promise<NsdServer> {
  const dir = mkdtempSync(join(parent, 'meshwan-nsd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'xfr'));
  writeFileSync(join(dir, 'zone'), zoneText(answers));
  const conf = [
    'server:',
    ...addresses.map((a) => `  ip-address: ${a}`),
    '  port: 53',
    '  server-count: 1',
    '  username: ""',
    '  chroot: ""',
    `  zonesdir: "${dir}"`,
    `  pidfile: "${join(dir, 'nsd.pid')}"`,
    `  zonelistfile: "${join(dir, 'zone.list')}"`,
    `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
    `  xfrdir: "${join(dir, 'xfr')}"`,
    '  database: ""',
    `  logfile: "${join(dir, 'nsd.log')}"`,
    '  verbosity: 0',
    '  hide-version: yes',
    '  refuse-any: no',
    // NSD's response rate limiting (200 answers/s per source by default) would drop load tests' answers.
    '  rrl-ratelimit: 0',
    'remote-control:',
    '  control-enable: no',
    'zone:',
    `  name: "${testZone}"`,
    `  zonefile: "${join(dir, 'zone')}"`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'nsd.conf'), conf);
  // Logs go to a file, not a pipe: a kept simulation (make sim ARGS=--keep) outlives this process.
  const child = ns.spawn(t, 'nsd', ['-d', '-c', join(dir, 'nsd.conf')], { stdio: 'ignore' });
  const stderr = (): string => {
    try {
      return readFileSync(join(dir, 'nsd.log'), 'utf8').trim();
    } catch {
      return '';
    }
  };
  const first = addresses[0];
  if (first === undefined) throw new Error('startNsd: no address given');
  await waitFor(`nsd on ${first} in ${ns.name} `, () => {
    if (child.exitCode !== null) throw new Error(`nsd exited with ${child.exitCode}: ${stderr()}`);
    return ns.try('dig', '+time=1', '+tries=1', '+short', `@${first}`, `probe.${testZone}`, 'TXT').stdout.includes(answers.txt);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('nsd: no pid');
  return { addresses, answers, pid, stop: () => stopProcess(child) };
}
