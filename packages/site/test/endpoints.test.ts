import t from 'tap';
import { formatEndpoint, parseEndpoint } from '../src/index.js';

t.test('endpoints in every written form', async (t) => {
  const cases: [string, string][] = [
    ['192.0.2.1', '192.0.2.1:53'],
    ['192.0.2.1:5353', '192.0.2.1:5353'],
    ['2001:DB8::1', '[2001:db8::1]:53'],
    ['[2001:db8::1]:5353', '[2001:db8::1]:5353'],
    ['[2001:db8::1]', '[2001:db8::1]:53'],
    ['fe80::1%wan0', '[fe80::1%wan0]:53'],
    ['[fe80::1%br-wan]:54', '[fe80::1%br-wan]:54'],
  ];
  for (const [input, formatted] of cases) {
    const parsed = parseEndpoint(input, 53);
    t.ok(parsed.ok, input);
    if (parsed.ok) t.equal(formatEndpoint(parsed.value), formatted, input);
  }
});

t.test('bad endpoints say what was expected', async (t) => {
  const bad: [string, RegExp][] = [
    ['[2001:db8::1', /missing "\]"/],
    ['[2001:db8::1]x', /expected ":PORT"/],
    ['[192.0.2.1]:53', /brackets are for IPv6/],
    ['192.0.2.1:0', /port 1-65535/],
    ['192.0.2.1%eth0', /expected an IPv4 or IPv6 address/],
    ['fe80::1%bad/name', /bad interface name/],
    ['', /expected an IPv4 or IPv6 address/],
  ];
  for (const [input, reason] of bad) {
    const parsed = parseEndpoint(input, 53);
    t.notOk(parsed.ok, input);
    if (!parsed.ok) t.match(parsed.reason, reason, input);
  }
});
