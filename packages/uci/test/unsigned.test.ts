import t from 'tap';
import { NumberError, parseUnsigned, readUnsigned } from '../src/index.js';

// What netifd's strtoul(text, &end, 0) plus its `end == text || *end` check makes of each text, for a u32.
const cases: ReadonlyArray<[string, number | undefined]> = [
  ['010', 8], // a leading 0 is octal
  ['0x10', 16],
  ['0X1f', 31],
  ['10', 10],
  ['0', 0],
  ['00', 0],
  [' 1', 1], // strtoul skips leading whitespace
  ['\t0x1', 1],
  ['+7', 7], // strtoul takes a plus sign
  ['4294967295', 0xffffffff],
  ['0xffffffff', 0xffffffff],
  ['', undefined], // end == text
  ['-1', undefined], // strtoul would wrap it to ULONG_MAX
  [' -0x1', undefined],
  ['4294967296', undefined], // past u32: netifd would truncate it to 0
  ['0x100000000', undefined],
  ['0x', undefined], // strtoul reads "0" and leaves "x"
  ['08', undefined], // strtoul reads "0" and leaves "8"
  ['1 ', undefined], // trailing text, whitespace too
  ['1x', undefined],
  ['0x1/0x1', undefined],
  ['1.5', undefined],
  ['+', undefined],
  ['one', undefined],
];

t.test('readUnsigned reads like strtoul(…, 0) over the whole text', async (t) => {
  for (const [text, want] of cases) {
    const got = readUnsigned(text);
    t.same(got.ok ? got.value : undefined, want, JSON.stringify(text));
    if (!got.ok) t.match(got.reason, /^expected /, `${JSON.stringify(text)} says what was expected`);
  }
});

t.test('readUnsigned checks the range it is given', async (t) => {
  t.same(readUnsigned('255', { max: 255 }), { ok: true, value: 255 });
  t.same(readUnsigned('0x100', { max: 255 }), { ok: false, reason: 'expected 0..255, got "0x100"' });
  t.same(readUnsigned('0', { min: 1 }), { ok: false, reason: 'expected 1..4294967295, got "0"' });
  t.match(readUnsigned('-1'), { ok: false, reason: /got a negative number$/ });
});

t.test('parseUnsigned throws a NumberError naming the field', async (t) => {
  t.equal(parseUnsigned('0x1', { field: '--mark' }), 1);
  t.throws(() => parseUnsigned('-1', { field: '--mark' }), NumberError);
  try {
    parseUnsigned('08', { field: 'network.wan6.ip6table' });
    t.fail('08 is not octal');
  } catch (err: unknown) {
    t.ok(err instanceof NumberError);
    if (!(err instanceof NumberError)) return;
    t.equal(err.field, 'network.wan6.ip6table');
    t.equal(err.text, '08');
    t.equal(err.message, 'network.wan6.ip6table: expected an unsigned number (decimal, 0x hex or 0 octal) 0..4294967295, got "08"');
  }
});
