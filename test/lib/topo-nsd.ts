/**
 * The topology's zone `meshwan.test.`, served by NSD (test/lib/nsd.ts) with answers that name the server that gave
 * them (TXT "wan-a", A 203.0.113.80, ...), so every answer shows which way a lookup went.
 */
import type { NsdZone } from './nsd.js';

/** The test zone every server of the topology serves, with different data per server. */
export const testZone = 'meshwan.test';

/** What one server answers for `probe.meshwan.test` and for any `*.meshwan.test` (a wildcard, so per-step names work). */
export interface ZoneAnswers {
  /** TXT string naming the server, e.g. "wan-a" or "mesh". */
  txt: string;
  a: string;
  aaaa: string;
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

/** The test zone with `answers`, for test/lib/nsd.ts; ready once `probe.meshwan.test` answers its TXT. */
export function testZoneOf(answers: ZoneAnswers): NsdZone {
  return { name: testZone, text: zoneText(answers), probe: { name: `probe.${testZone}`, type: 'TXT', expect: answers.txt } };
}
