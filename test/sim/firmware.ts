/**
 * The firmware side of the simulation: stage the tree `make install` builds (mk/stage.mjs, into a temp root),
 * run the upgrade scripts against it (`meshwan-reconfigure --root`), and check that every part of meshwan is there.
 * A missing part fails staging, and every step that needs it fails naming it: nothing is skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loopbackInterface } from '../lib/netifd.js';

/** The checkout: the first directory up from this module (test/sim/*.ts, or the bundle in out/sim/) with mk/stage.mjs. */
const repoRoot = ((): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== '/'; dir = dirname(dir)) {
    if (existsSync(join(dir, 'mk/stage.mjs'))) return dir;
  }
  return process.cwd();
})();

/** The parts a simulation step may need, each with what stages it. */
const parts = {
  'upgrade-scripts': 'upgrade-scripts (meshwan-reconfigure, /lib/gluon/upgrade)',
  'wan-dns': 'packages/wan-dns (/usr/lib/meshwan/wan-dns.qbc)',
  policy: 'packages/policy (/usr/lib/meshwan/meshwan.qbc)',
  'lib-packetmark': 'lib-packetmark (/usr/lib/libpacketmark.so)',
  files: 'files/ (/etc/init.d)',
} as const;
export type Part = keyof typeof parts;

/** "missing from the staged tree: packages/wan-dns (/usr/lib/meshwan/wan-dns.qbc)". */
export function missingMessage(missing: readonly Part[]): string {
  return `missing from the staged tree: ${missing.map((p) => parts[p]).join('; ')}`;
}

export interface Firmware {
  /** The staged root (a temp dir). */
  readonly root: string;
  /**
   * The argv head that runs a staged command here, `ROOT/usr/bin/meshwan-js ROOT/usr/lib/meshwan/X.qbc`;
   * undefined when X is not staged; throws for a command staged for Node (the router runs none).
   */
  command(name: string): string[] | undefined;
  /** Whether a part is in the staged tree. */
  has(part: Part): boolean;
  /** The parts that are not. */
  missing(): Part[];
}

export interface StageResult {
  ok: boolean;
  output: string;
  firmware: Firmware;
}

/** `make install DESTDIR=root` without its build step: mk/stage.mjs's payload beside the root, then mk/install.mk. */
function stageInto(root: string): { status: number | null; stdout: string; stderr: string } {
  const payload = `${root}.payload`;
  const stage = spawnSync(process.execPath, [join(repoRoot, 'mk/stage.mjs'), '--payload', payload], { encoding: 'utf8', cwd: repoRoot });
  if (stage.status !== 0) return stage;
  const make = [
    '-s',
    '--no-print-directory',
    '-f',
    'mk/install.mk',
    `ROOT=${repoRoot}`,
    `PAYLOAD=${payload}`,
    `DESTDIR=${root}`,
    'install-payload',
  ];
  const install = spawnSync('make', make, { encoding: 'utf8', cwd: repoRoot });
  return { status: install.status, stdout: `${stage.stdout}${install.stdout}`, stderr: `${stage.stderr}${install.stderr}` };
}

/**
 * Stages the firmware: what `make install DESTDIR=` runs after `make all` (which `make sim` has just run), so
 * the build is not repeated. MESHWAN_SIM_ROOT=DIR copies a tree staged (and perhaps edited) beforehand instead.
 */
export function stageFirmware(): StageResult {
  const given = process.env.MESHWAN_SIM_ROOT;
  const root = mkdtempSync(join(tmpdir(), 'meshwan-sim-root-'));
  // A given tree is copied, never used in place: every run and test file gets its own root to configure.
  const r =
    given === undefined
      ? stageInto(root)
      : existsSync(join(given, 'lib/gluon/site.ini'))
        ? spawnSync('cp', ['-a', `${given}/.`, root], { encoding: 'utf8' })
        : { status: 1, stdout: '', stderr: `MESHWAN_SIM_ROOT=${given}: not a staged tree (no lib/gluon/site.ini)` };
  const lib = join(root, 'usr/lib/meshwan');
  // The router runs every command on QuickJS: the sim runs the staged meshwan-js and bytecode, and a command staged
  // for Node (a host tool such as meshwan-site) is refused rather than run with the host's Node.
  const command = (name: string): string[] | undefined => {
    if (existsSync(join(lib, `${name}.qbc`))) return [join(root, 'usr/bin/meshwan-js'), join(lib, `${name}.qbc`)];
    if (existsSync(join(lib, `${name}.mjs`))) throw new Error(`${name} is staged for Node, which the router does not run`);
    return undefined;
  };
  const has = (part: Part): boolean => {
    switch (part) {
      case 'upgrade-scripts': {
        const dir = join(root, 'lib/gluon/upgrade');
        return command('meshwan-reconfigure') !== undefined && existsSync(dir) && readdirSync(dir).length > 0;
      }
      case 'wan-dns':
        return command('wan-dns') !== undefined;
      case 'policy':
        return command('meshwan') !== undefined;
      case 'lib-packetmark':
        return existsSync(join(root, 'usr/lib/libpacketmark.so'));
      case 'files':
        return existsSync(join(root, 'etc/init.d'));
    }
  };
  const firmware: Firmware = {
    root,
    command,
    has,
    missing: () => (Object.keys(parts) as Part[]).filter((p) => !has(p)),
  };
  // A tree without one of its parts is a failed staging, whatever mk/stage.mjs said.
  const missing = r.status === 0 ? firmware.missing() : [];
  const output = `${r.stdout}${r.stderr}${missing.length > 0 ? `\nstage: error: ${missingMessage(missing)}\n` : ''}`;
  return { ok: r.status === 0 && missing.length === 0, output, firmware };
}

export interface CommandResult {
  status: number | null;
  output: string;
}

/**
 * The environment firmware processes get: ours without a test runner's hooks (tap puts its loaders and coverage
 * into NODE_OPTIONS, NODE_V8_COVERAGE, TS_NODE_* and _TAPJS_*; a firmware command must run as on a node).
 */
export function firmwareEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k === 'NODE_OPTIONS' || /^(NODE_V8_|TS_NODE_|_?TAP)/i.test(k) || k === 'MESHWAN_SIM_ROOT') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * `env -i K=V... ARGV`: the command with exactly `env`. Passing `env` to spawn is not enough under tap: its
 * processinfo hook wraps child_process and puts NODE_OPTIONS (its --import loader) back into every child.
 */
export function cleanArgv(argv: readonly string[], env: Record<string, string> = firmwareEnv()): string[] {
  return ['env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv];
}

/** Runs a staged command (as its /usr/sbin entry would), outside any namespace (config work only). */
function runStaged(fw: Firmware, command: string, args: readonly string[], input?: string): CommandResult {
  const head = fw.command(command);
  if (head === undefined) return { status: 127, output: `${command}: not in the staged tree` };
  const [cmd = 'env', ...argv] = cleanArgv([...head, ...args]);
  const r = spawnSync(cmd, argv, { encoding: 'utf8', cwd: fw.root, timeout: 60_000, input });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/**
 * `uci` options for the staged root: its config dir and its save dir. libuci keeps staged changes in /tmp/.uci
 * unless told otherwise (-t), and even a batch that commits leaves its emptied delta file there: the host's.
 */
function stagedUci(fw: Firmware): string[] {
  return ['-c', join(fw.root, 'etc/config'), '-t', join(fw.root, 'tmp/.uci')];
}

const reconfigured = new Map<string, CommandResult>();

/**
 * The network config a board gives a node before any upgrade script runs (OpenWrt's config_generate on first boot):
 * the WAN port is named there, not by meshwan. The simulated node's WAN port is wan0.
 */
const boardNetwork = `
${loopbackInterface}
config interface 'wan'
\toption device 'wan0'
\toption proto 'dhcp'

config interface 'wan6'
\toption device 'wan0'
\toption proto 'dhcpv6'
`;

/** `meshwan-reconfigure --root ROOT`: the upgrade scripts, as on first boot (once per root: nodes of one test file share it). */
export function reconfigure(fw: Firmware): CommandResult {
  let r = reconfigured.get(fw.root);
  if (r === undefined) {
    const network = join(fw.root, 'etc/config/network');
    if (!existsSync(network)) {
      mkdirSync(dirname(network), { recursive: true });
      writeFileSync(network, boardNetwork);
    }
    r = runStaged(fw, 'meshwan-reconfigure', ['--root', fw.root]);
    reconfigured.set(fw.root, r);
  }
  return r;
}

/**
 * The WAN tables netifd would use, read from the staged /etc/config/network (wan.ip4table, wan6.ip6table) with the
 * staged `uci` command; undefined (main) when unset or unreadable.
 */
export function wanTables(fw: Firmware): { table4: number | undefined; table6: number | undefined } {
  const get = (key: string): number | undefined => {
    const r = runStaged(fw, 'uci', [...stagedUci(fw), '-q', 'get', key]);
    const n = Number(r.output.trim());
    return r.status === 0 && Number.isInteger(n) && n > 0 ? n : undefined;
  };
  return { table4: get('network.wan.ip4table'), table6: get('network.wan6.ip6table') };
}

/**
 * The simulated mesh carries IPv4 too (198.51.100.0/24 with a default route), which Gluon's IPv6-only mesh does
 * not: so the node's IPv4 WAN is split the OpenWrt way, as a community with an IPv4 mesh would configure it
 * (netifd's ip4table plus `config rule` and `config route` sections naming table 1, which meshwan apply honours).
 * Written with the staged `uci`, like a person at the node's shell.
 */
const ipv4SplitBatch = [
  "set network.wan.ip4table='1'",
  'set network.wan4_lookup=rule',
  "set network.wan4_lookup.mark='0x01/0x01'",
  "set network.wan4_lookup.lookup='1'",
  'set network.wan4_unreachable=route',
  "set network.wan4_unreachable.type='unreachable'",
  "set network.wan4_unreachable.interface='loopback'",
  "set network.wan4_unreachable.target='0.0.0.0/0'",
  "set network.wan4_unreachable.table='1'",
  "set network.wan4_unreachable.metric='65535'",
  'commit network',
  '',
].join('\n');

export function configureIpv4Split(fw: Firmware): CommandResult {
  return runStaged(fw, 'uci', [...stagedUci(fw), 'batch'], ipv4SplitBatch);
}

/**
 * For the sim with OpenWrt's real netifd (`--netifd=real`): the WAN as a static config netifd applies itself, with
 * the addresses and gateways of the topology's ISP (test/lib/topology.ts, wanMode 'netifd'). Written with the
 * staged `uci` and committed: netifd reads the committed file only.
 */
const netifdWanBatch = [
  "set network.wan.proto='static'",
  "set network.wan.ipaddr='192.0.2.2'",
  "set network.wan.netmask='255.255.255.0'",
  "set network.wan.gateway='192.0.2.1'",
  "set network.wan6.proto='static'",
  "set network.wan6.ip6addr='2001:db8:1::2/64'",
  "set network.wan6.ip6gw='fe80::1'",
  'commit network',
  '',
].join('\n');

export function configureStaticWanForNetifd(fw: Firmware): CommandResult {
  return runStaged(fw, 'uci', [...stagedUci(fw), 'batch'], netifdWanBatch);
}
