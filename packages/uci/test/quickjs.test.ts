/**
 * `uci` as the router runs it: bundled for QuickJS by mk/bundle.mjs and run on meshwan-js here and on big-endian
 * MIPS under qemu-user, against the Node bundle and OpenWrt's own output (test/fixtures/expected, recorded from
 * OpenWrt's uci). Every path is under a temp root: confdir ROOT/etc/config, save dir ROOT/tmp/.uci.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { bundleEntry, type Runtime, runBundle, scratch } from '../../os/test/lib/seam.js';

const runtimes: Runtime[] = ['node', 'host', 'mips_24kc'];
const main = new URL('../dist/main.js', import.meta.url).pathname;
const configs = new URL('./fixtures/configs/', import.meta.url).pathname;
const expected = new URL('./fixtures/expected/', import.meta.url).pathname;
const names = readdirSync(configs).sort();

// Every command is a process, some under qemu: generous for a loaded 2-core machine.
t.setTimeout(600_000);

interface Root {
  conf: string;
  save: string;
}

function makeRoot(dir: string, runtime: Runtime): Root {
  const root = mkdtempSync(join(dir, `root-${runtime}-`));
  const conf = join(root, 'etc/config');
  const save = join(root, 'tmp/.uci');
  mkdirSync(conf, { recursive: true });
  mkdirSync(join(root, 'tmp'));
  for (const name of names) copyFileSync(join(configs, name), join(conf, name));
  return { conf, save };
}

t.test('uci show, export, set, add_list, changes and commit: the same bytes on Node, meshwan-js and MIPS', async (t) => {
  const dir = scratch(t);
  const outputs = new Map<Runtime, string[]>();
  const committed = new Map<Runtime, Buffer>();
  for (const runtime of runtimes) {
    const bundle = await bundleEntry(main, runtime, dir);
    const { conf, save } = makeRoot(dir, runtime);
    const uci = async (...args: string[]) => {
      const ran = await runBundle(bundle, runtime, ['-c', conf, '-t', save, ...args]);
      return `${args.join(' ')} → ${ran.status}\n${ran.stdout}${ran.stderr === '' ? '' : `stderr: ${ran.stderr}`}`;
    };
    const seen: string[] = [];
    const show = await runBundle(bundle, runtime, ['-c', conf, '-t', save, 'show']);
    t.equal(show.status, 0, `${runtime}: uci show (${show.stderr})`);
    t.equal(
      show.stdout,
      names.map((n) => readFileSync(join(expected, `${n}.show`), 'utf8')).join(''),
      `${runtime}: uci show of ${names.length} configs is OpenWrt's`,
    );
    const exported = await runBundle(bundle, runtime, ['-c', conf, '-t', save, 'export', 'ow_firewall']);
    t.equal(exported.stdout, readFileSync(join(expected, 'ow_firewall.export'), 'utf8'), `${runtime}: uci export is OpenWrt's`);
    seen.push(await uci('set', 'ow_firewall.meshwan=zone'));
    seen.push(await uci('set', 'ow_firewall.meshwan.name=mesh wan grüße'));
    seen.push(await uci('add_list', 'ow_firewall.meshwan.network=wan'));
    seen.push(await uci('add_list', 'ow_firewall.meshwan.network=wan6'));
    seen.push(await uci('delete', 'ow_firewall.@zone[0].input'));
    seen.push(await uci('changes'));
    seen.push(await uci('get', 'ow_firewall.meshwan.name'));
    seen.push(await uci('get', 'ow_firewall.nothing'));
    seen.push(await uci('commit', 'ow_firewall'));
    seen.push(await uci('changes'));
    seen.push(await uci('show', 'ow_firewall.meshwan'));
    outputs.set(runtime, seen);
    committed.set(runtime, readFileSync(join(conf, 'ow_firewall')));
    t.equal((statSync(join(conf, 'ow_firewall')).mode & 0o777).toString(8), '644', `${runtime}: commit keeps the file's mode`);
    t.equal(readFileSync(join(save, 'ow_firewall'), 'latin1'), '', `${runtime}: nothing left staged`);
    t.same(
      readdirSync(conf).filter((n) => n.startsWith('.')),
      [],
      `${runtime}: no temp file left`,
    );
  }
  const node = outputs.get('node');
  t.match(node?.join(''), /get ow_firewall\.nothing → 1\nstderr: uci: Entry not found\n/);
  t.match(
    committed.get('node')?.toString('utf8'),
    /config zone 'meshwan'\n\toption name 'mesh wan grüße'\n\tlist network 'wan'\n\tlist network 'wan6'\n/,
  );
  for (const runtime of runtimes) {
    t.same(outputs.get(runtime), node, `${runtime}: the same outputs and exit codes as Node`);
    t.same(committed.get(runtime), committed.get('node'), `${runtime}: the same committed bytes as Node`);
  }
});
