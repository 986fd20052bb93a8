/**
 * OpenWrt's real network daemons (netifd, ubusd, ubus, uci) and service manager (procd, libsetlbf.so), built once into a cache (openwrtPrefix) and reused: tests run
 * meshwan beside the netifd a router runs, not beside a model of it. Where ../shared/openwrt exists (pinned source
 * tarballs and their build.sh), its build.sh builds them; otherwise the same pinned commits are cloned from
 * OpenWrt's repositories and built here with cmake. Neither possible: OpenwrtToolsError says what is missing.
 * A second call (or a second run of `make openwrt`) finds the stamp and does nothing.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** ../shared/openwrt from the project's root: the pinned tarballs, build.sh and its README. */
export const sharedOpenwrt = resolve(repoRoot, '..', 'shared', 'openwrt');
/** The machine's shared cache, which `make deps` (as root) fills and every user reads, as QuickJS's source. */
const sharedPrefix = '/var/cache/meshwan/openwrt';

/**
 * Where the tools are installed: a dependency cache of this machine's, like npm's, so a fresh clone (CI's) does not
 * spend minutes building the same pinned commits again (each build is stamped with its commit, and a changed pin
 * rebuilds). OPENWRT_PREFIX overrides; else /var/cache/meshwan/openwrt for root, and for any user once root has
 * built it there (make check as nobody, who has no home); else the user's cache, or out/openwrt without a home.
 */
export const openwrtPrefix =
  process.env.OPENWRT_PREFIX ??
  (process.getuid?.() === 0 || existsSync(join(sharedPrefix, 'bin', 'uci'))
    ? sharedPrefix
    : process.env.HOME
      ? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME, '.cache'), 'meshwan', 'openwrt')
      : join(repoRoot, 'out', 'openwrt'));

/**
 * The pinned commits (../shared/openwrt/README.md's table), in build order. Only used when ../shared/openwrt is
 * missing; keep in step with that table.
 */
export const OPENWRT_SOURCES = [
  { name: 'libnl-tiny', url: 'https://github.com/openwrt/libnl-tiny.git', commit: 'feca1d34', cmake: [] },
  {
    name: 'libubox',
    url: 'https://github.com/openwrt/libubox.git',
    commit: '1aa36ee7',
    cmake: ['-DBUILD_LUA=OFF', '-DBUILD_EXAMPLES=OFF'],
  },
  { name: 'ubus', url: 'https://github.com/openwrt/ubus.git', commit: '3cc98db1', cmake: ['-DBUILD_LUA=OFF', '-DBUILD_EXAMPLES=OFF'] },
  { name: 'uci', url: 'https://github.com/openwrt/uci.git', commit: '66127cd7', cmake: ['-DBUILD_LUA=OFF'] },
  {
    name: 'ucode',
    url: 'https://github.com/jow-/ucode.git',
    commit: '81205a25',
    // netifd links only ucode's core.
    cmake: [
      '-DUBUS_SUPPORT=OFF',
      '-DUCI_SUPPORT=OFF',
      '-DRTNL_SUPPORT=OFF',
      '-DNL80211_SUPPORT=OFF',
      '-DULOOP_SUPPORT=OFF',
      '-DZLIB_SUPPORT=OFF',
      '-DDIGEST_SUPPORT=OFF',
      '-DDIGEST_SUPPORT_EXTENDED=OFF',
    ],
  },
  { name: 'udebug', url: 'https://github.com/openwrt/udebug.git', commit: '875e1a7a', cmake: [] },
  { name: 'netifd', url: 'https://github.com/openwrt/netifd.git', commit: 'e97e36f9', cmake: [] },
  {
    name: 'procd',
    url: 'https://github.com/openwrt/procd.git',
    commit: '2c1834ab',
    // A service manager only (build-procd.sh's flags): no ujail, seccomp or utrace; libsetlbf.so is its own target.
    cmake: ['-DJAIL_SUPPORT=OFF', '-DSECCOMP_SUPPORT=OFF', '-DUTRACE_SUPPORT=OFF'],
  },
] as const;

/** Thrown when the tools cannot be built: no ../shared/openwrt and no way to clone or build the pinned sources. */
export class OpenwrtToolsError extends Error {
  override readonly name = 'OpenwrtToolsError';
}

export interface OpenwrtTools {
  readonly prefix: string;
  readonly netifd: string;
  readonly ubusd: string;
  readonly ubus: string;
  readonly uci: string;
  /** procd as a service manager (test/lib/procd.ts runs it beside ubusd in a pid + mount namespace). */
  readonly procd: string;
  /** What procd preloads into an instance that captures stdout (`procd_set_param stdout 1`). */
  readonly libsetlbf: string;
  /** libubox's jshn, which procd.sh's jshn.sh calls. */
  readonly jshn: string;
}

function tools(prefix: string): OpenwrtTools {
  return {
    prefix,
    netifd: join(prefix, 'sbin', 'netifd'),
    ubusd: join(prefix, 'sbin', 'ubusd'),
    ubus: join(prefix, 'bin', 'ubus'),
    uci: join(prefix, 'bin', 'uci'),
    procd: join(prefix, 'sbin', 'procd'),
    libsetlbf: join(prefix, 'lib', 'libsetlbf.so'),
    jshn: join(prefix, 'bin', 'jshn'),
  };
}

function missingTools(t: OpenwrtTools): string[] {
  return [t.netifd, t.ubusd, t.ubus, t.uci, t.procd, t.libsetlbf, t.jshn].filter((p) => !existsSync(p));
}

function runStep(what: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new OpenwrtToolsError(`${what}: cannot run ${command}: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = `${r.stdout}${r.stderr}`.trim().split('\n').slice(-30).join('\n');
    throw new OpenwrtToolsError(`${what}: ${command} ${args.join(' ')} exited ${r.status}:\n${tail}`);
  }
  return r.stdout;
}

/** The clone path's prerequisites, each named when missing (make deps installs them). */
function checkBuildPrerequisites(): void {
  const missing: string[] = [];
  for (const cmd of ['git', 'cmake', 'pkg-config', 'cc', 'make']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0) missing.push(`the command ${cmd}`);
  }
  if (!existsSync('/usr/include/json-c/json.h')) missing.push('json-c headers (Debian: libjson-c-dev)');
  if (
    !hasNewEthtool('/usr/include') &&
    spawnSync('sh', ['-c', 'command -v apt-get && command -v dpkg-deb'], { stdio: 'ignore' }).status !== 0
  ) {
    missing.push(
      `Linux >= 6.10 UAPI headers in /usr/include (${ETHTOOL_H} lacks ETHTOOL_A_C33_PSE_AVAIL_PW_LIMIT), or apt-get and dpkg-deb to fetch them`,
    );
  }
  if (missing.length > 0) {
    throw new OpenwrtToolsError(
      `cannot build OpenWrt's netifd: ${sharedOpenwrt} is missing, and building the pinned sources needs ${missing.join(', ')}`,
    );
  }
}

const ETHTOOL_H = 'linux/ethtool_netlink.h';

/** netifd uses ethtool UAPI enums of Linux 6.10+ (PSE-PD support); Debian bookworm's linux-libc-dev is 6.1. */
function hasNewEthtool(include: string): boolean {
  const file = join(include, ETHTOOL_H);
  return existsSync(file) && readFileSync(file, 'utf8').includes('ETHTOOL_A_C33_PSE_AVAIL_PW_LIMIT');
}

/**
 * The compiler flags for Linux >= 6.10 UAPI headers: none when /usr/include has them; otherwise, as
 * ../shared/openwrt/build.sh does, linux-libc-dev from bookworm-backports downloaded (not installed) through a
 * private apt list under `prefix` and unpacked there. /etc/apt and /usr/include are left untouched.
 */
function kernelHeaderFlags(prefix: string): string {
  if (hasNewEthtool('/usr/include')) return '';
  const khdr = join(prefix, 'kheaders');
  const machine = runStep('asking the compiler for its target', 'cc', ['-dumpmachine']).trim();
  const flags = `-isystem ${khdr}/usr/include -isystem ${khdr}/usr/include/${machine}`;
  if (hasNewEthtool(join(khdr, 'usr/include'))) return flags;
  const aptd = join(prefix, 'apt');
  mkdirSync(join(aptd, 'lists/partial'), { recursive: true });
  mkdirSync(join(aptd, 'cache/archives/partial'), { recursive: true });
  writeFileSync(
    join(aptd, 'sources.list'),
    'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main\n',
  );
  const apt = [
    '-qq',
    '-o',
    `Dir::Etc::SourceList=${join(aptd, 'sources.list')}`,
    '-o',
    'Dir::Etc::SourceParts=/dev/null',
    '-o',
    `Dir::State::Lists=${join(aptd, 'lists')}`,
    '-o',
    `Dir::Cache=${join(aptd, 'cache')}`,
    '-o',
    'APT::Sandbox::User=root',
  ];
  const what = 'fetching Linux >= 6.10 UAPI headers (linux-libc-dev from bookworm-backports) for netifd';
  runStep(what, 'apt-get', [...apt, 'update']);
  for (const f of readdirSync(aptd)) if (f.startsWith('linux-libc-dev_')) rmSync(join(aptd, f));
  runStep(what, 'sh', ['-c', `cd "$1" && shift && exec apt-get "$@" download linux-libc-dev/bookworm-backports`, 'sh', aptd, ...apt]);
  const deb = readdirSync(aptd).find((f) => f.startsWith('linux-libc-dev_') && f.endsWith('.deb'));
  if (deb === undefined) throw new OpenwrtToolsError(`${what}: apt-get download left no linux-libc-dev_*.deb in ${aptd}`);
  rmSync(khdr, { recursive: true, force: true });
  runStep(what, 'dpkg-deb', ['-x', join(aptd, deb), khdr]);
  if (!hasNewEthtool(join(khdr, 'usr/include'))) throw new OpenwrtToolsError(`${what}: ${deb} lacks ETHTOOL_A_C33_PSE_AVAIL_PW_LIMIT`);
  return flags;
}

/** Clones one pinned commit into src/NAME (a full clone: the pin is an abbreviated hash). */
function clonePinned(srcDir: string, source: (typeof OPENWRT_SOURCES)[number]): string {
  const dir = join(srcDir, source.name);
  const stamp = join(dir, '.meshwan-pinned');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === source.commit) return dir;
  rmSync(dir, { recursive: true, force: true });
  const what = `cloning ${source.url} at ${source.commit} (needed because ${sharedOpenwrt} is missing)`;
  runStep(what, 'git', ['clone', '--quiet', source.url, dir]);
  runStep(what, 'git', ['-C', dir, '-c', 'advice.detachedHead=false', 'checkout', '--quiet', source.commit]);
  writeFileSync(stamp, `${source.commit}\n`);
  return dir;
}

/**
 * procd is written for musl; glibc before 2.38 (Debian 12) has no strlcpy. As build-procd.sh does, a header
 * (written into `prefix`) supplies it when the C library lacks it.
 */
function procdCflags(prefix: string): string {
  const flags = '-Wno-error=format-overflow';
  const probe = spawnSync('cc', ['-x', 'c', '-Werror=implicit-function-declaration', '-o', '/dev/null', '-'], {
    input: '#define _GNU_SOURCE\n#include <string.h>\nint main(void){char b[2];return (int)strlcpy(b,"x",2);}\n',
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  if (probe.status === 0) return flags;
  const header = join(prefix, 'glibc-compat.h');
  writeFileSync(
    header,
    [
      '#ifndef MESHWAN_PROCD_GLIBC_COMPAT_H',
      '#define MESHWAN_PROCD_GLIBC_COMPAT_H',
      '#include <stddef.h>',
      'static inline size_t meshwan_strlcpy(char *d, const char *s, size_t n)',
      '{ size_t l = __builtin_strlen(s); if (n) { size_t c = l >= n ? n - 1 : l; __builtin_memcpy(d, s, c); d[c] = 0; } return l; }',
      '#define strlcpy meshwan_strlcpy',
      '#endif',
      '',
    ].join('\n'),
  );
  return `${flags} -include ${header}`;
}

/** Builds the pinned clones with cmake into `prefix` (what ../shared/openwrt/build.sh does from its tarballs). */
function buildFromClones(prefix: string): void {
  checkBuildPrerequisites();
  const srcDir = join(prefix, 'src-git');
  const buildDir = join(prefix, 'build-git');
  mkdirSync(srcDir, { recursive: true });
  const pc = process.env.PKG_CONFIG_PATH;
  const env = { ...process.env, PKG_CONFIG_PATH: `${prefix}/lib/pkgconfig${pc ? `:${pc}` : ''}` };
  for (const source of OPENWRT_SOURCES) {
    let src = clonePinned(srcDir, source);
    const stamp = join(prefix, `.built-git-${source.name}`);
    if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === source.commit) continue;
    const bdir = join(buildDir, source.name);
    rmSync(bdir, { recursive: true, force: true });
    const extra: string[] = [...source.cmake];
    if (source.name === 'netifd') {
      // netifd's CMakeLists runs a script relative to the build directory: build in a copy of its tree. Its
      // pkg-config lookup of libnl-tiny lacks the -L directory and include path; glibc needs _GNU_SOURCE for ucode's
      // vasprintf (musl declares it always), defined empty so the sources' own #define is an identical redefinition.
      cpSync(src, bdir, { recursive: true });
      src = bdir;
      const kflags = kernelHeaderFlags(prefix);
      extra.push(`-DCMAKE_C_FLAGS=-D_GNU_SOURCE= ${kflags} -I${prefix}/include/libnl-tiny`, `-DLIBNL_LIBS=${prefix}/lib/libnl-tiny.so`);
    }
    if (source.name === 'procd') extra.push(`-DCMAKE_C_FLAGS=${procdCflags(prefix)}`);
    const what = `building ${source.name} @ ${source.commit}`;
    runStep(
      what,
      'cmake',
      [
        '-S',
        src,
        '-B',
        bdir,
        '-Wno-dev',
        '-DCMAKE_BUILD_TYPE=Release',
        `-DCMAKE_INSTALL_PREFIX=${prefix}`,
        '-DCMAKE_INSTALL_LIBDIR=lib',
        `-DCMAKE_PREFIX_PATH=${prefix}`,
        `-DCMAKE_INSTALL_RPATH=${prefix}/lib`,
        '-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON',
        ...extra,
      ],
      env,
    );
    if (source.name === 'procd') {
      // Not its install target (that wants /sbin and the init files): the two binaries the tests run.
      runStep(what, 'cmake', ['--build', bdir, '-j2', '--target', 'procd', 'setlbf'], env);
      mkdirSync(join(prefix, 'sbin'), { recursive: true });
      cpSync(join(bdir, 'procd'), join(prefix, 'sbin', 'procd'));
      cpSync(join(bdir, 'libsetlbf.so'), join(prefix, 'lib', 'libsetlbf.so'));
    } else {
      runStep(what, 'cmake', ['--build', bdir, '-j2'], env);
      runStep(what, 'cmake', ['--install', bdir], env);
    }
    writeFileSync(stamp, `${source.commit}\n`);
  }
}

/**
 * The built tools; builds them first when needed (minutes on a fresh clone, about a second when built: `make
 * openwrt` does it before the suites run). Throws OpenwrtToolsError naming what is missing.
 */
export function openwrtTools(prefix = openwrtPrefix): OpenwrtTools {
  if (existsSync(prefix) && !writable(prefix)) {
    // Another user's build (root's, in the shared cache): used as it is; this user cannot rebuild it.
    const built = tools(prefix);
    const missing = missingTools(built);
    if (missing.length > 0) throw new OpenwrtToolsError(`${prefix} lacks ${missing.join(', ')}: run make deps as root to build them there`);
    return built;
  }
  // build-procd.sh runs build.sh first: one call builds netifd, ubusd, ubus, uci and procd.
  const buildSh = join(sharedOpenwrt, 'build-procd.sh');
  if (existsSync(buildSh)) {
    runStep(`building OpenWrt's netifd and procd with ${buildSh}`, 'bash', [buildSh, prefix]);
  } else {
    buildFromClones(prefix);
  }
  const built = tools(prefix);
  const missing = missingTools(built);
  if (missing.length > 0) throw new OpenwrtToolsError(`the OpenWrt build left out ${missing.join(', ')}`);
  return built;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** `make openwrt` (through test/lib/run-bundled.mjs): builds the tools, prints where. */
export async function main(_argv: readonly string[]): Promise<number> {
  try {
    const t = openwrtTools();
    console.log(`openwrt: netifd, ubusd, ubus, uci, procd in ${t.prefix}`);
    return 0;
  } catch (err: unknown) {
    console.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
}

/**
 * OpenWrt's base files that init scripts source (etc/rc.common, lib/functions.sh, lib/functions/procd.sh and
 * service.sh, usr/share/libubox/jshn.sh) and sbin/reload_config, at the commits of ../shared/openwrt/README.md.
 * Only ../shared/openwrt has them (the clone path builds programs, not openwrt/openwrt's package tree).
 */
export function openwrtBaseFiles(): string {
  const dir = join(sharedOpenwrt, 'base-files');
  for (const file of ['etc/rc.common', 'lib/functions/procd.sh', 'sbin/reload_config', 'usr/share/libubox/jshn.sh']) {
    if (!existsSync(join(dir, file))) throw new OpenwrtToolsError(`OpenWrt's base files are missing: no ${join(dir, file)}`);
  }
  return dir;
}
