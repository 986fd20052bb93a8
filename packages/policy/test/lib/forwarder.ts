/** A stand-in WAN forwarder for the check and redirect tests: dnsmasq answering example.org on 127.0.0.1:54 and [::1]:54. */
import type { ChildProcess } from 'node:child_process';
import { type Namespace, type Teardowns, waitFor } from '../../../../test/lib/netns.js';

export async function startForwarder(t: Teardowns, ns: Namespace): Promise<ChildProcess> {
  const child = ns.spawn(t, 'dnsmasq', [
    '-k',
    '-R',
    '-h',
    '-p',
    '54',
    '--listen-address=127.0.0.1',
    '--listen-address=::1',
    '--bind-interfaces',
    '--address=/example.org/192.0.2.99',
    '--address=/example.org/2001:db8::99',
    '--log-facility=-',
    '--pid-file=',
    '--user=root',
  ]);
  await waitFor(
    'dnsmasq on :54',
    () =>
      ns
        .try('ss', '-Hln', 'sport = :54')
        .stdout.split('\n')
        .filter((l) => l.trim()).length >= 4,
  );
  return child;
}
