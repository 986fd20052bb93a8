// Fuzz: random and mutated configs, delta files and addresses give a result or a typed error, never another
// exception and never a hang; what parses exports to a fixed point. Seeded, so failures replay.
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { loadDelta } from '../src/delta.js';
import { UciError } from '../src/errors.js';
import { exportPackage } from '../src/format.js';
import { newPackage } from '../src/model.js';
import { importUci } from '../src/parser.js';
import { lookupPtr, parsePtr } from '../src/ptr.js';

let seed = 20261201;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)] as T;

const dir = new URL('./fixtures/configs/', import.meta.url);
const corpus = readdirSync(dir).map((f) => readFileSync(new URL(f, dir)));
const TOKENS = ['config', 'option', 'list', 'package', 'c', 'o', 'l', 'p', "'", '"', '\\', '\\\n', '\n', '\r\n', ';', '#', ' ', '\t']
  .concat(['a', 'b_1', 'x-y', '\0', '\xff', '@', '.', '=', "''", '""', 'cfg01abcd', '\v', 'x'.repeat(40), '+', '-', '|', '~', '^'])
  .map((s) => Buffer.from(s, 'latin1'));

function mutate(base: Uint8Array): Buffer {
  const b = [...base];
  const n = 1 + Math.floor(rnd() * 8);
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(rnd() * (b.length + 1));
    const r = rnd();
    const tok = [...pick(TOKENS)];
    if (r < 0.4) b.splice(pos, 0, ...tok);
    else if (r < 0.7) b.splice(pos, 1 + Math.floor(rnd() * 5));
    else b.splice(pos, 1, ...tok);
  }
  return Buffer.from(b);
}

function random(): Buffer {
  const parts: Buffer[] = [];
  const n = Math.floor(rnd() * 40);
  for (let i = 0; i < n; i++) parts.push(rnd() < 0.1 ? Buffer.from([Math.floor(rnd() * 256)]) : pick(TOKENS));
  return Buffer.concat(parts);
}

/** Types that export unquoted can contain uci syntax; only plain ones promise a fixed point (as in libuci). */
const PLAIN_TYPE = /^[^'"#;\\\s]+$/;

t.test('configs: a package or a UciParseError, and a fixed point', async (t) => {
  let parsed = 0;
  let failed = 0;
  for (let i = 0; i < 3000; i++) {
    const input = i % 2 === 0 ? mutate(pick(corpus)) : random();
    for (const strict of [true, false]) {
      let out: string;
      try {
        const [p] = importUci(input, { package: 'p', single: true, strict });
        if (!p) throw new Error('no package');
        out = exportPackage(p, { header: true });
        parsed++;
        if (p.sections.every((s) => PLAIN_TYPE.test(s.type))) {
          const [q] = importUci(Buffer.from(out, 'latin1'));
          if (!q || exportPackage(q, { header: true }) !== out) t.fail(`not a fixed point: ${JSON.stringify(input.toString('latin1'))}`);
        }
      } catch (err: unknown) {
        if (!(err instanceof UciError)) {
          t.fail(`untyped ${String(err)} for ${JSON.stringify(input.toString('latin1'))}`);
          return;
        }
        failed++;
      }
    }
  }
  t.ok(parsed > 1000 && failed > 500, `both outcomes seen (${parsed} parsed, ${failed} errors)`);
});

t.test('delta files and addresses: applied, skipped or a typed error', async (t) => {
  const base = importUci(pick(corpus), { package: 'p', single: true })[0] ?? newPackage('p');
  const lines = ["p.a.b='c'", '+p.cfg01abcd=rule', '-p.lan', "|p.lan.dns='x'", "~p.lan.dns='x'", '@p.lan=wan', "^p.wan='1'"];
  for (let i = 0; i < 2000; i++) {
    const text = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => pick(lines)).join('\n');
    const input = rnd() < 0.5 ? mutate(Buffer.from(text, 'latin1')) : random();
    const p = structuredClone(base);
    p.index = null;
    try {
      loadDelta(p, input);
      exportPackage(p);
    } catch (err: unknown) {
      t.fail(`delta threw ${String(err)} for ${JSON.stringify(input.toString('latin1'))}`);
      return;
    }
    const addr = input.toString('latin1').split('\n')[0] ?? '';
    try {
      lookupPtr(p, parsePtr(addr.replace(/^[-+|~@^]/, '')), 'get');
    } catch (err: unknown) {
      if (!(err instanceof UciError)) t.fail(`address threw ${String(err)} for ${JSON.stringify(addr)}`);
    }
  }
  t.pass('2000 delta files and addresses handled');
});
