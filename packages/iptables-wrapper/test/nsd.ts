/** The redirect tests' zone (`redirect.test A <answer>`, served by test/lib/nsd.ts) and their dig. */
import { digSync } from '../../../test/lib/dig.js';
import type { Namespace } from '../../../test/lib/netns.js';
import type { NsdZone } from '../../../test/lib/nsd.js';

/** redirect.test, whose A record (the answer) names the server. */
export function redirectZone(answer: string): NsdZone {
  return {
    name: 'redirect.test',
    text: `$ORIGIN redirect.test.\n$TTL 60\n@ IN SOA ns admin 1 3600 600 86400 60\n@ IN NS ns\nns IN A ${answer}\n@ IN A ${answer}\n`,
    probe: { name: 'redirect.test', type: 'A', expect: answer },
  };
}

/**
 * `dig redirect.test A @server -p port` run under `setpriv args` (e.g. --regid 800 --clear-groups);
 * the answer, or `error: …` when there is none.
 */
export function dig(ns: Namespace, setpriv: readonly string[], server: string, port = 53, tcp = false): string {
  const r = digSync({ server, port, tcp, name: 'redirect.test', type: 'A', timeoutSeconds: 1, setpriv, netns: ns.name });
  const answer = r.answers[0];
  return r.status === 'NOERROR' && answer !== undefined && /^[\d.]+$/.test(answer) ? answer : `error: ${r.status}`;
}
