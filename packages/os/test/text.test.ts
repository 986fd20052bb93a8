/** The UTF-8 codec agrees with Node's TextEncoder/TextDecoder (the WHATWG behaviour) on valid and malformed input. */
import t from 'tap';
import { decodeUtf8, encodeUtf8 } from '../src/index.js';

const samples = ['', 'plain ascii', "option name 'Grüße'", '日本語', '😀 emoji', 'lone \ud800 high', 'lone \udc00 low', '\u0000nul'];

t.test('encode and decode as TextEncoder and TextDecoder do', (t) => {
  for (const s of samples) {
    t.same(encodeUtf8(s), new TextEncoder().encode(s), JSON.stringify(s));
    t.equal(decodeUtf8(new TextEncoder().encode(s)), new TextDecoder().decode(new TextEncoder().encode(s)), JSON.stringify(s));
  }
  t.end();
});

t.test('malformed bytes become U+FFFD as TextDecoder makes them', (t) => {
  const cases = [
    [0xff],
    [0xc0, 0x80],
    [0xe2, 0x82],
    [0xe2, 0x28, 0xa1],
    [0xf0, 0x9f, 0x98],
    [0xed, 0xa0, 0x80],
    [0x61, 0x80, 0x62],
    [0xf5, 0x80],
  ];
  for (const c of cases) {
    const bytes = Uint8Array.from(c);
    t.equal(decodeUtf8(bytes), new TextDecoder().decode(bytes), c.map((b) => b.toString(16)).join(' '));
  }
  t.equal(decodeUtf8(encodeUtf8('abcdef'), 2, 4), 'cd', 'a slice');
  const big = 'x'.repeat(20000);
  t.equal(decodeUtf8(encodeUtf8(big)), big, 'longer than one chunk');
  t.end();
});
