/** site's address syntax is node:net's, without Node (the upgrade scripts read site.ini on QuickJS). */
import { isIPv4 as nodeIPv4, isIPv6 as nodeIPv6 } from 'node:net';
import t from 'tap';
import { isIPv4, isIPv6 } from '../src/ip.js';

const samples = [
  '192.0.2.1',
  '0.0.0.0',
  '255.255.255.255',
  '256.0.0.1',
  '01.2.3.4',
  '1.2.3',
  '1.2.3.4.5',
  ' 1.2.3.4',
  '1.2.3.4 ',
  '::',
  '::1',
  '2001:db8::1',
  '2001:db8:0:0:0:0:0:1',
  '2001:db8::1::2',
  'fe80::1%eth0',
  'fe80::1%',
  '::ffff:192.0.2.1',
  '2001:db8:1:2:3:4:5:6:7',
  '1:2:3:4:5:6:7::',
  '1::2:3:4:5:6:7',
  'g::1',
  '12345::',
  '',
  'localhost',
  '::ffff:1.2.3.256',
  '1:2:3:4:5:6:192.0.2.1',
  '1:2:3:4:5:6:7:192.0.2.1',
  'fd00::%lo:0',
  '2001:DB8::A',
];

t.test('isIPv4 and isIPv6 agree with node:net', async (t) => {
  for (const s of samples) {
    t.equal(isIPv4(s), nodeIPv4(s), `isIPv4(${JSON.stringify(s)})`);
    t.equal(isIPv6(s), nodeIPv6(s), `isIPv6(${JSON.stringify(s)})`);
  }
});
