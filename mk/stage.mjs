#!/usr/bin/env node
// The payload of `make install` (and of the release tarball): everything a firmware tree needs that Node makes,
// and the one list of what goes where, with the OpenWrt package that owns each file (feed/owners). mk/install.sh
// copies it into DESTDIR for one target, or one package of it, with the C built for that target; it needs no Node,
// so the release tarball (`make dist`) installs with the same two files.
//
//   node mk/stage.mjs --payload DIR [--site site.ini]
//
// DIR/MANIFEST, one line per staged path, tab-separated: OWNER WHEN SOURCE MODE KIND DEST SRC
//   OWNER   the OpenWrt package (feed/owners)
//   WHEN    all | host (a host tool: only TARGET=host) | node (runs on Node: only TARGET=host, refused elsewhere)
//   SOURCE  where staging made it from (packages/wan-dns, files/etc/init.d/wan-dns, ...), for owners and errors
//   KIND    file (DIR/SRC) | link (a symlink to SRC) | qbc (DIR/qbc/SRC.qbc) | engine (meshwan-js) |
//           packetmark (libpacketmark.so)
// A package with "meshwan": { "runtime": "quickjs" } in its package.json ships each command as bytecode in
// /usr/lib/meshwan/NAME.qbc and a symlink NAME -> meshwan-js (which runs $MESHWAN_JS_LIB/NAME.qbc); any other
// package keeps its Node bundle, sh wrapper and native addons. `meshwan.hostOnlyCommands` are tools for hosts
// without OpenWrt or the firmware build host (no PATH entry, TARGET=host only, on either engine); `meshwan.nodeCommands` are commands of a QuickJS package
// that still need Node (host only); `meshwan.entries` names a command's QuickJS entry (default src/main.ts).
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleFor } from './bundle.mjs';

const root = resolve(new URL('..', import.meta.url).pathname);
const { values } = parseArgs({
  options: { payload: { type: 'string' }, site: { type: 'string' } },
});

function fail(message) {
  console.error(`stage: error: ${message}`);
  process.exit(1);
}

if (!values.payload) fail('--payload DIR is required');
const payload = resolve(values.payload);
// Daemons and tools run by init scripts go to sbin, as on OpenWrt; the rest to bin.
const sbinCommands = new Set(['meshwan', 'wan-dns', 'meshwan-reconfigure']);

// The host's engine compiles the bytecode for every target: with packages/os/quickjs-patches QuickJS writes the
// same bytes on every host, big-endian MIPS included (packages/os/test/bytecode.test.ts).
const compiler = join(root, 'build/host/meshwan-js');

/** feed/owners: [source, package] pairs, longest source first. */
function readOwners() {
  const lines = readFileSync(join(root, 'feed/owners'), 'utf8').split('\n');
  const owners = [];
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.length !== 2) fail(`feed/owners:${i + 1}: expected "source package", got ${JSON.stringify(raw)}`);
    owners.push(fields);
  }
  return owners.sort((a, b) => b[0].length - a[0].length);
}
const owners = readOwners();

function ownerOf(source) {
  const hit = owners.find(([s]) => source === s || source.startsWith(`${s}/`));
  if (!hit) fail(`${source}: no OpenWrt package owns it (add a line to feed/owners)`);
  return hit[1];
}

const manifest = [];
function add(when, source, mode, kind, dest, src) {
  manifest.push([ownerOf(source), when, source, mode, kind, dest, src].join('\t'));
}

function write(path, text, mode = 0o644) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

/** A package's flags for Node (package.json "meshwan": {"nodeFlags": [...]}): only plain `--name[=value]`. */
function nodeFlagsOf(manifestJson, dir) {
  const flags = manifestJson.meshwan?.nodeFlags ?? [];
  for (const flag of flags) {
    if (typeof flag !== 'string' || !/^--[a-z0-9-]+(=[A-Za-z0-9._-]+)?$/.test(flag)) {
      fail(`${join(dir, 'package.json')}: meshwan.nodeFlags: not a plain V8/Node flag: ${JSON.stringify(flag)}`);
    }
  }
  return flags.map((f) => `${f} `).join('');
}

/** One QuickJS bundle compiled to bytecode, for every target: payload/qbc/NAME.qbc. */
async function bytecode(entry, name) {
  const js = join(payload, 'js', `${name}.js`);
  await bundleFor(entry, js, 'quickjs', { minify: true });
  const out = join(payload, 'qbc', `${name}.qbc`);
  mkdirSync(join(out, '..'), { recursive: true });
  if (!existsSync(compiler)) fail(`${compiler} is absent (make native)`);
  const r = spawnSync(compiler, ['--compile', js, out], { encoding: 'utf8' });
  if (r.status !== 0) fail(`${name}: meshwan-js --compile exited ${r.status ?? r.signal}: ${r.stderr}${r.error ?? ''}`);
}

/**
 * A command's entry for QuickJS: its engine-free entry, `meshwan.entries[command]` in package.json when the
 * package has several commands, else src/main.ts, which every ported package has.
 */
function quickjsEntry(dir, pkg, command) {
  const file = pkg.meshwan?.entries?.[command] ?? 'src/main.ts';
  const entry = join(dir, file);
  if (!existsSync(entry)) fail(`${relative(root, dir)}: runtime quickjs but no ${file} for ${command}`);
  return entry;
}

rmSync(payload, { recursive: true, force: true });
mkdirSync(payload, { recursive: true });

// 1. The site file: refuse to stage a firmware from a site file with any error.
const { loadSite, renderSiteExample } = await import(join(root, 'packages/site/dist/index.js'));
if (values.site) {
  try {
    loadSite(values.site);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    fail('refusing to build a firmware from a bad site file');
  }
}
write(join(payload, 'site.ini'), values.site ? readFileSync(values.site, 'utf8') : renderSiteExample());
add('all', 'site.ini', '644', 'file', '/lib/gluon/site.ini', 'site.ini');

// 2. Commands: every workspace package's "bin".
const packageDirs = readdirSync(join(root, 'packages'))
  .sort()
  .map((n) => join(root, 'packages', n))
  .concat(join(root, 'upgrade-scripts'));
let quickjsCommands = 0;
let nodeCommands = 0;
for (const dir of packageDirs) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const source = relative(root, dir);
  const quickjs = pkg.meshwan?.runtime === 'quickjs';
  const hostOnly = new Set(pkg.meshwan?.hostOnlyCommands ?? []);
  const onNode = new Set(pkg.meshwan?.nodeCommands ?? []);
  for (const [command, path] of Object.entries(pkg.bin ?? {})) {
    const binDir = sbinCommands.has(command) ? '/usr/sbin' : '/usr/bin';
    if (quickjs && !onNode.has(command)) {
      quickjsCommands++;
      await bytecode(quickjsEntry(dir, pkg, command), command);
      // A command OpenWrt already has (`uci`: /sbin/uci) is a host tool: its bytecode for hosts without OpenWrt
      // (the simulation runs it with meshwan-js), no symlink, so on a router one name keeps one implementation.
      const when = hostOnly.has(command) ? 'host' : 'all';
      add(when, source, '644', 'qbc', `/usr/lib/meshwan/${command}.qbc`, command);
      if (!hostOnly.has(command))
        add(when, source, '777', 'link', `${binDir}/${command}`, binDir === '/usr/bin' ? 'meshwan-js' : '../bin/meshwan-js');
      continue;
    }
    nodeCommands++;
    // On Node: a host-side tool (`when` host: in a QuickJS package, or hostOnlyCommands, such as site.ini's
    // validation on the firmware build host), or a router command not ported yet (`when` node).
    const when = quickjs || hostOnly.has(command) ? 'host' : 'node';
    await bundleFor(join(dir, path), join(payload, 'node', `${command}.mjs`), 'node');
    add(when, source, '644', 'file', `/usr/lib/meshwan/${command}.mjs`, `node/${command}.mjs`);
    if (hostOnly.has(command)) continue;
    write(join(payload, 'node', command), `#!/bin/sh\nexec node ${nodeFlagsOf(pkg, dir)}/usr/lib/meshwan/${command}.mjs "$@"\n`, 0o755);
    add(when, source, '755', 'file', `${binDir}/${command}`, `node/${command}`);
  }
}

// 3. The engine, once, when anything runs on it.
if (quickjsCommands > 0) add('all', 'packages/os/meshwan-js', '755', 'engine', '/usr/bin/meshwan-js', 'meshwan-js');

// 4. Native addons for Node bundles (packages/os's netio.node), found next to the bundle at run time: only while a
// staged command still runs on Node. None built is a missing part, not an option.
for (const dir of packageDirs.filter((d) => existsSync(join(d, 'Makefile')))) {
  if (nodeCommands === 0) break;
  const buildDir = join(dir, 'build');
  const addons = existsSync(buildDir) ? readdirSync(buildDir).filter((f) => f.endsWith('.node')) : [];
  if (addons.length === 0) fail(`${basename(dir)}: no native addon in ${buildDir} (run make native first)`);
  for (const file of addons) {
    cpSync(join(buildDir, file), join(payload, 'node', file));
    // Host only: every Node bundle it serves runs on TARGET=host only (a cross install refuses a Node command's own
    // lines, naming its package), so on a router it would be dead weight that blocked its owner, meshwan.
    add('host', relative(root, dir), '644', 'file', `/usr/lib/meshwan/${file}`, `node/${file}`);
  }
}

// 5. Upgrade scripts: upgrade-scripts/src/upgrade/NNN-name.ts -> /lib/gluon/upgrade/NNN-name. On QuickJS a two-line
// sh runs its bytecode: `meshwan-reconfigure --root DIR` runs them against a staged tree, where the engine and the
// bytecode are under $MESHWAN_ROOT (empty on a node), which a symlink to meshwan-js could not follow.
const upgradeDir = join(root, 'upgrade-scripts/dist/upgrade');
// A part that is not built fails the staging: a firmware tree without it would boot a node that leaks or has no DNS.
if (!existsSync(upgradeDir)) fail('upgrade-scripts/dist/upgrade is absent (run make all first)');
const upgradeQuickjs = JSON.parse(readFileSync(join(root, 'upgrade-scripts/package.json'), 'utf8')).meshwan?.runtime === 'quickjs';
for (const file of readdirSync(upgradeDir)
  .filter((f) => /^\d{3}-[a-z0-9-]+\.js$/.test(f))
  .sort()) {
  const name = basename(file, '.js');
  const source = `upgrade-scripts/upgrade/${name}`;
  if (upgradeQuickjs) {
    await bytecode(join(upgradeDir, file), name);
    add('all', source, '644', 'qbc', `/usr/lib/meshwan/${name}.qbc`, name);
    write(
      join(payload, 'upgrade', name),
      `#!/bin/sh\nexec "$MESHWAN_ROOT/usr/bin/meshwan-js" "$MESHWAN_ROOT/usr/lib/meshwan/${name}.qbc" "$@"\n`,
      0o755,
    );
    add('all', source, '755', 'file', `/lib/gluon/upgrade/${name}`, `upgrade/${name}`);
  } else {
    const out = join(payload, 'upgrade', name);
    await bundleFor(join(upgradeDir, file), `${out}.mjs`, 'node');
    write(out, `#!/usr/bin/env node\n${readFileSync(`${out}.mjs`, 'utf8')}`, 0o755);
    rmSync(`${out}.mjs`);
    add('node', source, '755', 'file', `/lib/gluon/upgrade/${name}`, `upgrade/${name}`);
  }
}

// 6. lib-packetmark: built for the target by mk/install.sh's caller (its own Makefile).
add('all', 'lib-packetmark', '755', 'packetmark', '/usr/lib/libpacketmark.so', 'libpacketmark.so');

// 7. The rootfs overlay, as it is (its README is documentation, not firmware).
if (!existsSync(join(root, 'files/etc/init.d'))) fail('files/etc/init.d is absent');
function overlay(dir) {
  for (const name of readdirSync(join(root, dir)).sort()) {
    const path = `${dir}/${name}`;
    if (path === 'files/README.md') continue;
    if (statSync(join(root, path)).isDirectory()) {
      overlay(path);
      continue;
    }
    cpSync(join(root, path), join(payload, path), { preserveTimestamps: true });
    const mode = (statSync(join(root, path)).mode & 0o111) !== 0 ? '755' : '644';
    add('all', path, mode, 'file', path.slice('files'.length), path);
  }
}
overlay('files');

rmSync(join(payload, 'js'), { recursive: true, force: true });
writeFileSync(join(payload, 'MANIFEST'), `${manifest.join('\n')}\n`);
console.log(`stage: ${manifest.length} paths in ${relative(process.cwd(), payload) || '.'}/MANIFEST`);
