/**
 * NSD as the real upstream for wan-dns tests: zone example.test with known TTLs, negative answers (SOA minimum
 * 60), an answer too big for UDP (TC, then TCP) and a TXT naming the server (to see which one answered).
 * Runs in the foreground (-d) from its own temp dir, on the host's loopback or inside a test namespace; stopped by PID.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Namespace, stopProcess, type Teardowns, waitFor } from '../../../../test/lib/netns.js';

const zone = 'example.test';

function zoneText(name: string): string {
  const big = Array.from({ length: 24 }, (_, i) => `big 300 IN TXT "${String(i).padStart(2, '0')}-${'x'.repeat(90)}"`);
  return [
    `$ORIGIN ${zone}.`,
    '$TTL 300',
    '@ IN SOA ns hostmaster 1 3600 600 86400 60',
    '@ IN NS ns',
    'ns IN A 192.0.2.1',
    'www IN A 192.0.2.80',
    'www IN AAAA 2001:db8::80',
    'short 5 IN A 192.0.2.5',
    `who 0 IN TXT "${name}"`,
    '* 0 IN A 192.0.2.99',
    `* 0 IN TXT "${name}"`,
    ...big,
    '',
  ].join('\n');
}

export interface Nsd {
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts NSD serving zoneText(name) on `addresses` port `port`; in `ns` when given, else on the host (loopback only). */
export async function startNsd(t: Teardowns, name: string, addresses: readonly string[], port: number, ns?: Namespace): Promise<Nsd> {
  const dir = mkdtempSync(join(tmpdir(), 'wan-dns-nsd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'zone'), zoneText(name));
  writeFileSync(
    join(dir, 'nsd.conf'),
    [
      'server:',
      ...addresses.map((a) => `  ip-address: ${a}@${port}`),
      '  database: ""',
      `  zonelistfile: ${dir}/zonelist`,
      `  pidfile: ${dir}/nsd.pid`,
      `  xfrdfile: ${dir}/xfrd.state`,
      `  xfrdir: ${dir}`,
      '  username: ""',
      '  chroot: ""',
      '  server-count: 1',
      '  verbosity: 0',
      '  hide-version: yes',
      // Debian's NSD limits responses per client (RRL): truncated or dropped answers under load would test NSD, not us.
      '  rrl-ratelimit: 0',
      'remote-control:',
      '  control-enable: no',
      'zone:',
      `  name: ${zone}`,
      `  zonefile: ${dir}/zone`,
      '',
    ].join('\n'),
  );
  const args = ['-d', '-c', join(dir, 'nsd.conf')];
  const child = ns ? ns.spawn(t, 'nsd', args) : spawn('nsd', args, { stdio: 'pipe' });
  if (!ns) t.teardown(() => stopProcess(child));
  const first = addresses[0] as string;
  await waitFor(
    `nsd ${name} on ${first}@${port}`,
    () => {
      const dig = ['dig', `@${first}`, '-p', String(port), '+short', '+time=1', '+tries=1', `who.${zone}`, 'TXT'];
      const out = ns ? ns.try(dig[0] as string, ...dig.slice(1)) : spawnSync(dig[0] as string, dig.slice(1), { encoding: 'utf8' });
      return out.stdout.includes(name);
    },
    60_000,
  );
  return { port, child, stop: () => stopProcess(child) };
}
