/**
 * The upstream zone of wan-dns tests, served by NSD (test/lib/nsd.ts): example.test with known TTLs, negative
 * answers (SOA minimum 60), an answer too big for UDP (TC, then TCP) and a TXT naming the server (to see which one
 * answered).
 */
import type { NsdZone } from '../../../../test/lib/nsd.js';

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

/** The example.test zone whose TXT names the server `name`, for test/lib/nsd.ts. */
export function exampleZone(name: string): NsdZone {
  return { name: zone, text: zoneText(name), probe: { name: `who.${zone}`, type: 'TXT', expect: name } };
}
