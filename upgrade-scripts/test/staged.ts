/**
 * The upgrade scripts as staged (mk/stage.mjs): each a two-line sh running meshwan-js on the script's bytecode,
 * compiled once per test file by the host's meshwan-js, and meshwan-reconfigure --root running them over a root,
 * itself its bytecode on meshwan-js.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { engine } from '../../packages/os/test/lib/probe.js';
import { bundleEntry, scratch } from '../../packages/os/test/lib/seam.js';

const runnerEntry = new URL('../src/main.ts', import.meta.url).pathname;
const distUpgrade = new URL('../dist/upgrade', import.meta.url).pathname;

/** The script names in dist/upgrade (NNN-name), in the runner's order. */
export const scripts = readdirSync(distUpgrade)
  .filter((f) => /^\d{3}-[a-z0-9-]+\.js$/.test(f))
  .map((f) => f.slice(0, -3))
  .sort();

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Staged {
  /** Installs the wrappers into <root>/lib/gluon/upgrade, as `make install` does. */
  install(root: string): void;
  /** meshwan-reconfigure --root ROOT in a clean environment, as on a node. */
  reconfigure(root: string): Ran;
}

/** Compiles every script to bytecode once (removed when `t` ends). */
export async function stageScripts(t: Test): Promise<Staged> {
  const dir = scratch(t);
  const bytecode = new Map<string, string>();
  for (const name of scripts) bytecode.set(name, await bundleEntry(join(distUpgrade, `${name}.js`), 'host', dir));
  const meshwanJs = engine('host');
  const runner = await bundleEntry(runnerEntry, 'host', dir);
  return {
    install(root: string): void {
      const target = join(root, 'lib/gluon/upgrade');
      mkdirSync(target, { recursive: true });
      for (const name of scripts) {
        writeFileSync(join(target, name), `#!/bin/sh\nexec "${meshwanJs}" "${bytecode.get(name)}" "$@"\n`);
        chmodSync(join(target, name), 0o755);
      }
    },
    reconfigure(root: string): Ran {
      // A clean environment, as on a node (`env -i`: nothing of tap's reaches the scripts).
      const path = 'PATH=/usr/sbin:/usr/bin:/sbin:/bin';
      return spawnSync('/usr/bin/env', ['-i', path, meshwanJs, runner, '--root', root], { encoding: 'utf8' });
    },
  };
}
