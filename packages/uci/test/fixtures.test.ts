// 76 real configs from OpenWrt and its packages feed (origins: /work/shared/uci-configs/SOURCES.txt);
// expected export and show output recorded from OpenWrt's uci.
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { exportPackage, showPackage } from '../src/format.js';
import { importUci } from '../src/parser.js';

const dir = new URL('./fixtures/configs/', import.meta.url);
const expected = new URL('./fixtures/expected/', import.meta.url);

for (const name of readdirSync(dir).sort()) {
  t.test(name, async (t) => {
    const [p] = importUci(readFileSync(new URL(name, dir)), { package: name, single: true });
    t.ok(p);
    if (!p) return;
    const out = exportPackage(p, { header: true });
    t.equal(out, readFileSync(new URL(`${name}.export`, expected)).toString('latin1'), 'export');
    t.equal(showPackage(p), readFileSync(new URL(`${name}.show`, expected)).toString('latin1'), 'show');
    const [again] = importUci(Buffer.from(out, 'latin1'));
    t.equal(again && exportPackage(again, { header: true }), out, 'parse(export(x)) is a fixed point');
  });
}
