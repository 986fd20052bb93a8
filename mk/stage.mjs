#!/usr/bin/env node
// `make install DESTDIR=... [SITE=...]`: stages the firmware rootfs a community build copies into its image.
//   /usr/lib/meshwan/<command>.mjs   one bundled file per command (esbuild; no node_modules on the device)
//   /usr/lib/meshwan/*.node          native addons, found next to the bundle at run time
//   /usr/bin, /usr/sbin              small sh wrappers that exec node on the bundle
//   /lib/gluon/upgrade/NNN-name      upgrade scripts, one bundle each
//   /lib/gluon/site.ini              the validated site file (defaults when SITE is not given)
//   /usr/lib/libpacketmark.so        from lib-packetmark/ (its own Makefile)
//   files/                           copied as it is
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = resolve(new URL('..', import.meta.url).pathname);
const { values } = parseArgs({ options: { destdir: { type: 'string' }, site: { type: 'string' } } });
if (!values.destdir) {
  console.error('stage: --destdir is required');
  process.exit(2);
}
const dest = resolve(values.destdir);
// Daemons and tools run by init scripts go to sbin, as on OpenWrt; the rest to bin.
const sbinCommands = new Set(['meshwan', 'wan-dns', 'meshwan-reconfigure']);
// ESM bundles of CommonJS dependencies (dns-packet) need a real `require`.
const banner = {
  js: "import { createRequire as __meshwanCreateRequire } from 'node:module';\nconst require = __meshwanCreateRequire(import.meta.url);",
};

function fail(message) {
  console.error(`stage: error: ${message}`);
  process.exit(1);
}

function write(path, text, mode = 0o644) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

async function bundle(entry, outfile) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    banner,
    external: ['*.node'],
    logLevel: 'error',
    legalComments: 'none',
  });
}

// A package may ask for V8 flags for its commands (package.json "meshwan": {"nodeFlags": [...]}), e.g. a bounded
// young generation for a long-running daemon; they land in the sh wrapper, so only plain `--name[=value]` passes.
function nodeFlagsOf(manifest, dir) {
  const flags = manifest.meshwan?.nodeFlags ?? [];
  for (const flag of flags) {
    if (typeof flag !== 'string' || !/^--[a-z0-9-]+(=[A-Za-z0-9._-]+)?$/.test(flag)) {
      console.error(`stage: ${join(dir, 'package.json')}: meshwan.nodeFlags: not a plain V8/Node flag: ${JSON.stringify(flag)}`);
      process.exit(1);
    }
  }
  return flags.map((f) => `${f} `).join('');
}

// 1. The site file: refuse to stage a firmware from a site file with any error.
const { loadSite, renderSiteExample } = await import(join(root, 'packages/site/dist/index.js'));
const siteText = values.site ? readFileSync(values.site, 'utf8') : renderSiteExample();
if (values.site) {
  try {
    loadSite(values.site);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    console.error('stage: refusing to build a firmware from a bad site file');
    process.exit(1);
  }
}
write(join(dest, 'lib/gluon/site.ini'), siteText);

// 2. Commands: every workspace package's "bin".
const packageDirs = readdirSync(join(root, 'packages'))
  .map((n) => join(root, 'packages', n))
  .concat(join(root, 'upgrade-scripts'));
const staged = [];
for (const dir of packageDirs) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  // A command OpenWrt already has (`uci`: /sbin/uci) is a host tool here: its bundle is staged for hosts without
  // OpenWrt (the simulation), but no wrapper goes on the PATH, so on a router one name keeps one implementation.
  const hostOnly = new Set(manifest.meshwan?.hostOnlyCommands ?? []);
  for (const [command, path] of Object.entries(manifest.bin ?? {})) {
    await bundle(join(dir, path), join(dest, 'usr/lib/meshwan', `${command}.mjs`));
    if (hostOnly.has(command)) {
      staged.push(`/usr/lib/meshwan/${command}.mjs (host tool: no wrapper, OpenWrt's own ${command} stays the command)`);
      continue;
    }
    const binDir = sbinCommands.has(command) ? 'usr/sbin' : 'usr/bin';
    write(join(dest, binDir, command), `#!/bin/sh\nexec node ${nodeFlagsOf(manifest, dir)}/usr/lib/meshwan/${command}.mjs "$@"\n`, 0o755);
    staged.push(`/${binDir}/${command}`);
  }
  // A package with native code (its own Makefile) ships its addons; none built is a missing part, not an option.
  if (!existsSync(join(dir, 'Makefile'))) continue;
  const buildDir = join(dir, 'build');
  const addons = existsSync(buildDir) ? readdirSync(buildDir).filter((f) => f.endsWith('.node')) : [];
  if (addons.length === 0) fail(`${basename(dir)}: no native addon in ${buildDir} (run make native first)`);
  for (const file of addons) {
    mkdirSync(join(dest, 'usr/lib/meshwan'), { recursive: true });
    copyFileSync(join(buildDir, file), join(dest, 'usr/lib/meshwan', file));
    staged.push(`/usr/lib/meshwan/${file}`);
  }
}

// 3. Upgrade scripts: upgrade-scripts/src/upgrade/NNN-name.ts -> /lib/gluon/upgrade/NNN-name (executable bundle).
const upgradeDir = join(root, 'upgrade-scripts/dist/upgrade');
// A part that is not built fails the staging: a firmware tree without it would boot a node that leaks or has no DNS.
if (!existsSync(upgradeDir)) fail('upgrade-scripts/dist/upgrade is absent (run make all first)');
for (const file of readdirSync(upgradeDir).filter((f) => /^\d{3}-[a-z0-9-]+\.js$/.test(f))) {
  const name = basename(file, '.js');
  const out = join(dest, 'lib/gluon/upgrade', name);
  await bundle(join(upgradeDir, file), `${out}.tmp.mjs`);
  write(out, `#!/usr/bin/env node\n${readFileSync(`${out}.tmp.mjs`, 'utf8')}`, 0o755);
  spawnSync('rm', ['-f', `${out}.tmp.mjs`]);
  staged.push(`/lib/gluon/upgrade/${name}`);
}

// 4. lib-packetmark, through its own Makefile.
const packetmark = spawnSync('make', ['--no-print-directory', '-C', join(root, 'lib-packetmark'), 'install', `DESTDIR=${dest}`], {
  stdio: 'inherit',
});
if (packetmark.status !== 0) fail(`lib-packetmark: make install exited ${packetmark.status ?? packetmark.signal}`);
staged.push('/usr/lib/libpacketmark.so');

// 5. The rootfs overlay, as it is.
if (!existsSync(join(root, 'files/etc/init.d'))) fail('files/etc/init.d is absent');
cpSync(join(root, 'files'), dest, { recursive: true, preserveTimestamps: true });

console.log(`staged into ${dest}:\n  /lib/gluon/site.ini\n${staged.map((s) => `  ${s}`).join('\n')}\n  files/ overlay`);
