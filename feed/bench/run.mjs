#!/usr/bin/env node
// Installed size of meshwan per target and per OpenWrt package: `make install DESTDIR=… TARGET=T PACKAGE=P` of each
// feed package (feed/owners), measured as files (bytes of regular files; links count nothing) and as OpenWrt's
// squashfs packs them (mksquashfs -comp xz -b 256K, as OpenWrt's image builds do, no BCJ filter as for MIPS;
// the image's size minus an empty one's). meshwan-js (QuickJS with our C) is shown apart from meshwan's own files,
// which are what the issue's 400 KB budget counts. Stock Gluon's pieces meshwan replaces (gluon-wan-dnsmasq: shell
// and a dnsmasq instance; libpacketmark) are a few KB of files: the comparison is in the printed note.
// Prints a Markdown block for BENCHMARKS.md. Usage: node feed/bench/run.mjs   (needs mksquashfs: make deps)
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const targets = ['mips_24kc', 'mipsel_24kc', 'aarch64'];
// The feed's packages: its directories with an OpenWrt Makefile (feed/owners, which staging reads, names the same).
const packages = readdirSync(join(root, 'feed'))
  .filter((d) => existsSync(join(root, 'feed', d, 'Makefile')))
  .sort();

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Bytes of the regular files under `dir` (links and directories count nothing). */
function fileBytes(dir) {
  let sum = 0;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const st = lstatSync(path);
    if (st.isDirectory()) sum += fileBytes(path);
    else if (st.isFile()) sum += st.size;
  }
  return sum;
}

/** What the tree adds to a squashfs image as OpenWrt builds it (xz, 256 KiB blocks; no BCJ filter, as for MIPS). */
function squashed(dir, scratch) {
  const image = join(scratch, 'image.sqfs');
  rmSync(image, { force: true });
  run('mksquashfs', [dir, image, '-comp', 'xz', '-b', '256K', '-noappend', '-all-root', '-quiet', '-no-progress']);
  return statSync(image).size;
}

const scratch = mkdtempSync(join(tmpdir(), 'meshwan-size-'));
try {
  const empty = join(scratch, 'empty');
  mkdirSync(empty);
  const rows = [];
  for (const target of targets) {
    const base = squashed(empty, scratch);
    const sizes = {};
    for (const pkg of packages) {
      const dest = join(scratch, `${target}-${pkg}`);
      run('make', ['-s', '--no-print-directory', 'install', `DESTDIR=${dest}`, `TARGET=${target}`, `PACKAGE=${pkg}`]);
      sizes[pkg] = { files: fileBytes(dest), xz: squashed(dest, scratch) - base };
    }
    const own = packages.filter((p) => p !== 'meshwan-js');
    const ownDir = join(scratch, `${target}-own`);
    for (const pkg of own) run('cp', ['-a', `${join(scratch, `${target}-${pkg}`)}/.`, ownDir]);
    const all = join(scratch, `${target}-all`);
    run('cp', ['-a', `${ownDir}/.`, all]);
    run('cp', ['-a', `${join(scratch, `${target}-meshwan-js`)}/.`, all]);
    rows.push({
      target,
      sizes,
      own: { files: fileBytes(ownDir), xz: squashed(ownDir, scratch) - base },
      all: { files: fileBytes(all), xz: squashed(all, scratch) - base },
    });
  }
  const kb = (n) => (n / 1024).toFixed(0);
  const out = [
    '## Installed size per target (feed/bench)',
    '',
    `Command: \`node feed/bench/run.mjs\` (\`make install DESTDIR=… TARGET=T PACKAGE=P\` per feed package; files: bytes of regular files; xz: what the tree adds to a squashfs image made as OpenWrt makes it, \`mksquashfs -comp xz -b 256K\`). ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `| target | ${packages.map((p) => `${p} files / xz KB`).join(' | ')} | meshwan's own (all but meshwan-js) files / xz KB | everything files / xz KB |`,
    `|---|${packages.map(() => '---:').join('|')}|---:|---:|`,
    ...rows.map(
      (r) =>
        `| ${r.target} | ${packages.map((p) => `${kb(r.sizes[p].files)} / ${kb(r.sizes[p].xz)}`).join(' | ')} | ${kb(r.own.files)} / ${kb(r.own.xz)} | ${kb(r.all.files)} / ${kb(r.all.xz)} |`,
    ),
    '',
    "meshwan-js is QuickJS 2025-04-26 with meshwan's C, stripped, linked against Debian's glibc cross toolchains here (OpenWrt's musl build differs; packages/os's bench has its sizes per libc). Stock Gluon's pieces that meshwan replaces are a few KB of files (gluon-wan-dnsmasq's scripts and libpacketmark.so) but rely on dnsmasq, which the image has anyway.",
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
