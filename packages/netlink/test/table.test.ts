/**
 * The lookup's building blocks without a kernel: the allocation-free address parser against the reference parser
 * (codec/ip.ts parseIp), and TableIndex (hash level per prefix length) against a brute-force longest-prefix match
 * through random adds and removes. The whole lookup is compared with the kernel in lookup.test.ts.
 */
import type { IpFamily } from '@meshwan/os';
import t from 'tap';
import { parseIp } from '../src/codec/ip.js';
import type { Route } from '../src/codec/route.js';
import { IPV4, IPV6, NOT_IP, parseAddressInto } from '../src/prefix.js';
import { type Entry, TableIndex } from '../src/table.js';
import { prng } from './random.js';

const seed = Number(process.env.NETLINK_SEED ?? Date.now() % 1_000_000);
const rnd = prng(seed);

/** parseIp's answer as four signed words, or undefined. */
function referenceWords(text: string): number[] | undefined {
  const bytes = parseIp(text);
  if (!bytes) return undefined;
  const words = [0, 0, 0, 0];
  for (let i = 0; i < bytes.length; i += 4)
    words[i >> 2] = ((bytes[i] ?? 0) << 24) | ((bytes[i + 1] ?? 0) << 16) | ((bytes[i + 2] ?? 0) << 8) | (bytes[i + 3] ?? 0);
  return words;
}

function randomText(): string {
  const hex = () => rnd.int(0x10000).toString(16);
  const forms = [
    () => Array.from({ length: 8 }, hex).join(':'),
    () => `${Array.from({ length: rnd.int(4) }, hex).join(':')}::${Array.from({ length: rnd.int(4) }, hex).join(':')}`,
    () => `::ffff:${rnd.int(256)}.${rnd.int(256)}.${rnd.int(256)}.${rnd.int(256)}`,
    () => `${rnd.int(300)}.${rnd.int(256)}.${rnd.int(256)}.${rnd.int(1000)}`,
    () => `${hex()}:${hex()}::${hex()}:${rnd.int(256)}.${rnd.int(256)}.1.2`,
    () => hex().toUpperCase(),
  ];
  let text = rnd.pick(forms)();
  // damage some: drop, double or swap a character, add a zero, pad
  const damage = rnd.int(8);
  const at = rnd.int(text.length + 1);
  if (damage === 0) text = text.slice(0, at) + text.slice(at + 1);
  else if (damage === 1) text = text.slice(0, at) + (text[at] ?? ':') + text.slice(at);
  else if (damage === 2) text = text.slice(0, at) + rnd.pick([':', '.', 'g', ' ', '0', '::', '%', 'é']) + text.slice(at);
  else if (damage === 3) text = `0${text}`;
  return text;
}

t.test(`parseAddressInto accepts and reads exactly what parseIp does (seed ${seed})`, async (t) => {
  const fixed = [
    '',
    ':',
    '::',
    ':::',
    '::1',
    '1::',
    '1:',
    ':1',
    '1::2::3',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8::',
    '12345::',
    'fe80::1%eth0',
    '::ffff:192.0.2.1',
    '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::1.2.3',
    '::1.2.3.4.5',
    '1.2.3.4::',
    '::a1.2.3.4',
    '::1234.1.1.1',
    '192.0.2.1',
    '192.0.2.256',
    '010.0.0.1',
    '1.2.3',
    '1.2.3.4.',
    '1..2.3',
    '2001:DB8::AbCd',
    '2001:db8::g',
  ];
  const out = new Int32Array(4);
  let valid = 0;
  for (const text of [...fixed, ...Array.from({ length: 5000 }, randomText)]) {
    const expected = referenceWords(text);
    const kind = parseAddressInto(text, out);
    if (expected === undefined) {
      if (kind !== NOT_IP) t.fail(`${JSON.stringify(text)}: parseIp rejects it, parseAddressInto does not`);
      continue;
    }
    valid++;
    const family = text.includes(':') ? IPV6 : IPV4;
    if (kind !== family || [...out].join() !== expected.join())
      t.fail(`${JSON.stringify(text)}: ${kind} ${[...out].join()} instead of ${family} ${expected.join()}`);
  }
  t.ok(valid > 1000, `${valid} valid addresses among the cases`);
});

function route(dst: string, dstLength: number, metric: number, family: IpFamily): Route {
  return {
    family,
    table: 254,
    type: 'unicast',
    dst,
    dstLength,
    srcLength: 0,
    tos: 0,
    metric,
    protocol: 3,
    scope: 0,
    flags: 0,
    unknown: [],
  };
}

function bits(words: Int32Array | readonly number[], length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ((words[i >> 5] as number) >>> (31 - (i & 31))) & 1;
  return s;
}

t.test(`TableIndex finds the longest prefix through random adds and removes (seed ${seed})`, async (t) => {
  for (const family of [4, 6] as const) {
    const table = new TableIndex();
    const live: { entry: Entry; key: string }[] = [];
    const width = family === 4 ? 32 : 128;
    const address = () =>
      family === 4
        ? `10.${rnd.int(4)}.${rnd.int(4)}.${rnd.int(256)}`
        : `2001:db8:${rnd.int(4).toString(16)}:${rnd.int(3)}::${rnd.int(0x10000).toString(16)}`;
    const lengths = family === 4 ? [0, 8, 16, 23, 24, 30, 32] : [0, 32, 47, 48, 64, 65, 96, 127, 128];
    const out = new Int32Array(4);
    for (let step = 0; step < 6000; step++) {
      if (live.length > 0 && rnd.chance(0.4)) {
        const [gone] = live.splice(rnd.int(live.length), 1);
        if (gone) table.remove(gone.entry);
      } else {
        const length = rnd.pick(lengths);
        const dst = address();
        parseAddressInto(dst, out);
        const entry = table.add(route(dst, length, rnd.int(4), family));
        live.push({ entry, key: bits(out, length) });
      }
      if (step % 20 !== 0) continue;
      t.equal(table.size, live.length);
      const probe = address();
      parseAddressInto(probe, out);
      const all = bits(out, width);
      // brute force: the longest prefix covering the probe, its lowest metric, the earliest added among equals
      let best: { entry: Entry; key: string } | undefined;
      for (const l of live)
        if (
          all.startsWith(l.key) &&
          (!best || l.key.length > best.key.length || (l.key.length === best.key.length && l.entry.metric < best.entry.metric))
        )
          best = l;
      let found: Entry | undefined;
      for (const level of table.levels) {
        found = level.get(out[0] as number, out[1] as number, out[2] as number, out[3] as number);
        if (found) break;
      }
      if (found !== best?.entry)
        t.fail(
          `${family} ${probe}: found ${found?.route.dst}/${found?.dstLength}, expected ${best?.entry.route.dst}/${best?.entry.dstLength}`,
        );
    }
    const listed = [...table.entries()];
    t.equal(listed.length, live.length, `${family}: every live route listed once`);
    t.ok(
      listed.every((e, i) => i === 0 || (listed[i - 1] as Entry).dstLength >= e.dstLength),
      'listed longest prefix first',
    );
    for (const l of live) table.remove(l.entry);
    t.equal(table.size, 0);
    t.same(table.levels, [], `${family}: empty levels are dropped`);
  }
});
