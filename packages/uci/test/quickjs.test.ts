/**
 * `uci` as it ships (a host tool for hosts without OpenWrt: bytecode on meshwan-js, never Node): bundled for QuickJS
 * by mk/bundle.mjs and run on meshwan-js here and on big-endian MIPS under qemu-user, against OpenWrt's own uci
 * (the real one, test/lib/openwrt.ts, on the same commands; and test/fixtures/expected, recorded from it). Every
 * path is under a temp root: confdir ROOT/etc/config, save dir ROOT/tmp/.uci. (The library on Node is what the
 * other suites test.)
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openwrtTools } from '../../../test/lib/openwrt.js';
import { bundleEntry, type Runtime, runBundle, scratch } from '../../os/test/lib/seam.js';

const runtimes: Runtime[] = ['host', 'mips_24kc'];
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

function makeRoot(dir: string, runtime: Runtime | 'openwrt'): Root {
  const root = mkdtempSync(join(dir, `root-${runtime}-`));
  const conf = join(root, 'etc/config');
  const save = join(root, 'tmp/.uci');
  mkdirSync(conf, { recursive: true });
  mkdirSync(join(root, 'tmp'));
  for (const name of names) copyFileSync(join(configs, name), join(conf, name));
  return { conf, save };
}

t.test('uci show, export, set, add_list, changes and commit: the same bytes on meshwan-js here and on MIPS', async (t) => {
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
  // OpenWrt's own uci on the same configs and commands: the reference for every output, exit code and byte.
  const openwrt = openwrtTools().uci;
  const { conf, save } = makeRoot(dir, 'openwrt');
  const reference = [
    ['set', 'ow_firewall.meshwan=zone'],
    ['set', 'ow_firewall.meshwan.name=mesh wan grüße'],
    ['add_list', 'ow_firewall.meshwan.network=wan'],
    ['add_list', 'ow_firewall.meshwan.network=wan6'],
    ['delete', 'ow_firewall.@zone[0].input'],
    ['changes'],
    ['get', 'ow_firewall.meshwan.name'],
    ['get', 'ow_firewall.nothing'],
    ['commit', 'ow_firewall'],
    ['changes'],
    ['show', 'ow_firewall.meshwan'],
  ].map((args) => {
    // argv[0] 'uci', as on a router: its messages start with it.
    const ran = spawnSync(openwrt, ['-c', conf, '-t', save, ...args], { encoding: 'utf8', argv0: 'uci' });
    return `${args.join(' ')} → ${ran.status}\n${ran.stdout}${ran.stderr === '' ? '' : `stderr: ${ran.stderr}`}`;
  });
  t.match(reference.join(''), /get ow_firewall\.nothing → 1\nstderr: uci: Entry not found\n/);
  for (const runtime of runtimes) {
    t.same(outputs.get(runtime), reference, `${runtime}: the outputs and exit codes of OpenWrt's uci`);
    t.same(committed.get(runtime), readFileSync(join(conf, 'ow_firewall')), `${runtime}: the bytes OpenWrt's uci commits`);
  }
});
