/** A throwaway NSD inside a namespace, answering `redirect.test A <answer>` on 127.0.0.1@port and ::1@port. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Namespace, type Teardowns, waitFor } from '../../../test/lib/netns.js';

export async function startNsd(t: Teardowns, ns: Namespace, port: number, answer: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mw-nsd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'zone'),
    `$ORIGIN redirect.test.\n$TTL 60\n@ IN SOA ns admin 1 3600 600 86400 60\n@ IN NS ns\nns IN A ${answer}\n@ IN A ${answer}\n`,
  );
  writeFileSync(
    join(dir, 'nsd.conf'),
    [
      'server:',
      `  ip-address: 127.0.0.1@${port}`,
      `  ip-address: ::1@${port}`,
      '  username: ""',
      '  chroot: ""',
      `  zonelistfile: "${dir}/zone.list"`,
      '  database: ""',
      `  pidfile: "${dir}/nsd.pid"`,
      `  xfrdfile: "${dir}/xfrd.state"`,
      `  xfrdir: "${dir}"`,
      `  logfile: "${dir}/nsd.log"`,
      '  server-count: 1',
      'remote-control:',
      '  control-enable: no',
      'zone:',
      '  name: redirect.test',
      `  zonefile: "${dir}/zone"`,
      '',
    ].join('\n'),
  );
  ns.spawn(t, 'nsd', ['-d', '-c', join(dir, 'nsd.conf')]);
  await waitFor(`nsd on port ${port}`, () => dig(ns, [], '127.0.0.1', port) === answer && dig(ns, [], '::1', port) === answer);
}

/**
 * `dig +short redirect.test A @server -p port` run under `setpriv args` (e.g. --regid 800 --clear-groups);
 * the answer, or `error: …` when there is none.
 */
export function dig(ns: Namespace, setpriv: readonly string[], server: string, port = 53, tcp = false): string {
  const cmd = [
    ...(setpriv.length > 0 ? ['setpriv', ...setpriv, '--'] : []),
    'dig',
    '+short',
    '+time=1',
    '+tries=1',
    ...(tcp ? ['+tcp'] : []),
    `@${server}`,
    '-p',
    String(port),
    'redirect.test',
    'A',
  ];
  const [command = 'dig', ...args] = cmd;
  const r = ns.try(command, ...args);
  const out = r.stdout.trim();
  return r.status === 0 && /^[\d.]+$/.test(out) ? out : `error: ${(out || r.stderr).split('\n')[0]}`;
}
