/**
 * The firmware side of the simulation: stage the tree `make install` builds (mk/stage.mjs, into a temp root),
 * run the upgrade scripts against it (`meshwan-reconfigure --root`), and tell which parts of meshwan have landed.
 * A part that is still the foundation's placeholder ("not yet implemented (issue #N)") is reported as missing, so
 * steps that need it are skipped by name instead of failing or, worse, passing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: the first directory up from this module (test/sim/*.ts, or the bundle in out/sim/) with mk/stage.mjs. */
export const repoRoot = ((): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== '/'; dir = dirname(dir)) {
    if (existsSync(join(dir, 'mk/stage.mjs'))) return dir;
  }
  return process.cwd();
})();

/** The parts a simulation step may need, with the issue that delivers each. */
export const parts = {
  'upgrade-scripts': { issue: 9, what: 'upgrade-scripts (meshwan-reconfigure)' },
  'wan-dns': { issue: 8, what: 'packages/wan-dns' },
  policy: { issue: 9, what: 'packages/policy (meshwan)' },
  'lib-packetmark': { issue: 5, what: 'lib-packetmark' },
  files: { issue: 9, what: 'files/ (init scripts)' },
} as const;
export type Part = keyof typeof parts;

/** "SKIP (needs packages/wan-dns, issue #8)". */
export function needs(part: Part): string {
  return `needs ${parts[part].what}, issue #${parts[part].issue}`;
}

export interface Firmware {
  /** The staged root (a temp dir). */
  readonly root: string;
  /** Absolute path of a bundled command's .mjs in the staged root. */
  bundle(command: string): string;
  /** Whether a part has landed in the staged tree (present and not the placeholder). */
  has(part: Part): boolean;
  /** The parts that have not landed. */
  missing(): Part[];
}

/** True when a bundle is the foundation's placeholder: tiny and saying "not yet implemented (issue #N)". */
export function isPlaceholder(file: string): boolean {
  if (!existsSync(file)) return true;
  return statSync(file).size < 8192 && /not yet implemented \(issue #\d+\)/.test(readFileSync(file, 'utf8'));
}

export interface StageResult {
  ok: boolean;
  output: string;
  firmware: Firmware;
}

/**
 * Stages the firmware: what `make install DESTDIR=` runs after `make all` (which `make sim` has just run), so
 * the build is not repeated.
 */
export function stageFirmware(root = mkdtempSync(join(tmpdir(), 'meshwan-sim-root-'))): StageResult {
  const r = spawnSync(process.execPath, [join(repoRoot, 'mk/stage.mjs'), '--destdir', root], { encoding: 'utf8', cwd: repoRoot });
  const bundle = (command: string): string => join(root, 'usr/lib/meshwan', `${command}.mjs`);
  const has = (part: Part): boolean => {
    switch (part) {
      case 'upgrade-scripts': {
        const dir = join(root, 'lib/gluon/upgrade');
        return !isPlaceholder(bundle('meshwan-reconfigure')) && existsSync(dir) && readdirSync(dir).length > 0;
      }
      case 'wan-dns':
        return !isPlaceholder(bundle('wan-dns'));
      case 'policy':
        return !isPlaceholder(bundle('meshwan'));
      case 'lib-packetmark':
        return existsSync(join(root, 'usr/lib/libpacketmark.so'));
      case 'files':
        return existsSync(join(root, 'etc/init.d'));
    }
  };
  const firmware: Firmware = {
    root,
    bundle,
    has,
    missing: () => (Object.keys(parts) as Part[]).filter((p) => !has(p)),
  };
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`, firmware };
}

export interface CommandResult {
  status: number | null;
  output: string;
}

/** Runs a staged command with node (as its /usr/sbin wrapper would), outside any namespace (config work only). */
export function runStaged(fw: Firmware, command: string, args: readonly string[]): CommandResult {
  const r = spawnSync(process.execPath, [fw.bundle(command), ...args], { encoding: 'utf8', cwd: fw.root, timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** `meshwan-reconfigure --root ROOT`: the upgrade scripts, as on first boot. */
export function reconfigure(fw: Firmware): CommandResult {
  return runStaged(fw, 'meshwan-reconfigure', ['--root', fw.root]);
}

/**
 * The WAN tables netifd would use, read from the staged /etc/config/network (wan.ip4table, wan6.ip6table) with the
 * staged `uci` command; undefined (main) when unset or unreadable.
 */
export function wanTables(fw: Firmware): { table4: number | undefined; table6: number | undefined } {
  const get = (key: string): number | undefined => {
    if (isPlaceholder(fw.bundle('uci'))) return undefined;
    const r = runStaged(fw, 'uci', ['-c', join(fw.root, 'etc/config'), '-q', 'get', key]);
    const n = Number(r.output.trim());
    return r.status === 0 && Number.isInteger(n) && n > 0 ? n : undefined;
  };
  return { table4: get('network.wan.ip4table'), table6: get('network.wan6.ip6table') };
}
