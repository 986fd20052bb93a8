// Grammar cases whose expected output was recorded from OpenWrt's uci (export, show, -S export).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { byteBuffer } from '../src/bytes.js';
import { exportPackage, showPackage } from '../src/format.js';
import { exportUci, parseUci, UciParseError } from '../src/index.js';
import { importUci } from '../src/parser.js';

interface Run {
  stdout: string;
  stderr: string;
  status: number;
}
interface Case {
  name: string;
  input: string;
  export: Run;
  show: Run;
  nonstrict: Run;
}

const cases = JSON.parse(readFileSync(new URL('./fixtures/grammar.json', import.meta.url), 'utf8')) as Case[];

function bytes(s: string): Uint8Array {
  return byteBuffer(s);
}

for (const c of cases) {
  t.test(`grammar: ${c.name}`, async (t) => {
    let out: string;
    let show: string;
    try {
      const [p] = importUci(bytes(c.input), { package: 'p', single: true });
      if (!p) throw new Error('no package');
      out = exportPackage(p, { header: true });
      show = showPackage(p);
    } catch (err: unknown) {
      if (!(err instanceof UciParseError)) throw err;
      t.equal(c.export.status, 1, 'uci fails too');
      t.equal(`uci: Parse error (${err.reason}) at line ${err.line}, byte ${err.byte}\n`, c.export.stderr);
      return;
    }
    t.equal(c.export.status, 0, 'uci parses it too');
    t.equal(out, c.export.stdout, 'export');
    t.equal(show, c.show.stdout, 'show');
    // Round trip: exporting what we parsed and parsing it again is a fixed point.
    const [again] = importUci(bytes(out), { package: 'p', single: true });
    t.ok(again);
    if (again) t.equal(exportPackage(again, { header: true }), out, 'fixed point');
  });
  t.test(`grammar (non-strict): ${c.name}`, async (t) => {
    const errs: string[] = [];
    const [p] = importUci(bytes(c.input), { package: 'p', single: true, strict: false, onError: (e) => errs.push(e.message) });
    t.ok(p);
    if (p) t.equal(exportPackage(p, { header: true }), c.nonstrict.stdout);
    t.equal(errs.map((m) => `${m.replace(/^p: /, '')}\n`).join(''), c.nonstrict.stderr);
  });
}

t.test('parseUci takes text or bytes and names the package', async (t) => {
  const p = parseUci("config interface 'lan'\n\toption proto static\n", { package: 'network' });
  t.equal(p.name, 'network');
  t.equal(exportUci(p), "package network\n\nconfig interface 'lan'\n\toption proto 'static'\n\n");
  t.equal(exportUci(p, { header: false }), "\nconfig interface 'lan'\n\toption proto 'static'\n\n");
  const q = parseUci(Buffer.from('config a\n'), { file: '/etc/config/firewall' });
  t.equal(q.name, 'firewall');
  t.equal(exportUci(q, { exportNames: true }), "package firewall\n\nconfig a 'cfg01b606'\n\n");
});

t.test('parse errors carry file, reason, line and byte', async (t) => {
  const err = t.throws(() => parseUci('config a x\n\tbogus\n', { file: '/etc/config/x' }));
  t.ok(err instanceof UciParseError);
  if (err instanceof UciParseError) {
    t.match(err, { file: '/etc/config/x', reason: 'invalid command', line: 2, byte: 1, code: 'PARSE' });
    t.equal(err.message, '/etc/config/x: Parse error (invalid command) at line 2, byte 1');
  }
  t.throws(() => parseUci('', { package: 'a.b c' }), UciParseError);
});
