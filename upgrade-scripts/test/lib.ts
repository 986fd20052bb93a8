/** Staged roots for the upgrade-script tests: build one from fixtures, run the steps, snapshot every file. */
import { chmodSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Uci } from '@meshwan/uci';
import type { Test } from 'tap';
import { contextFor } from '../src/context.js';
import { commitStaged, upgradeMeshVpn, upgradeNetwork, upgradeSettings, upgradeWanDns } from '../src/steps.js';
import { openStore } from '../src/uci-store.js';

export const fixtures = new URL('./fixtures', import.meta.url).pathname;
export const sharedConfigs = '/work/shared/uci-configs';

/** A temp root; `files` maps a path under the root (etc/config/network) to a fixture file to copy there. */
export function makeRoot(t: Test, files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'meshwan-upgrade-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    copyFileSync(source, join(root, path));
    // As on a device (0644), whatever the fixture's own mode: shared/ is laid out read-only.
    chmodSync(join(root, path), 0o644);
  }
  return root;
}

/** Runs the four steps as the scripts would, each with a fresh store (each script is its own process). */
export function upgrade(root: string, env: NodeJS.ProcessEnv = {}): void {
  for (const step of [upgradeSettings, upgradeNetwork, upgradeWanDns, upgradeMeshVpn, commitStaged]) {
    const ctx = contextFor(root, env);
    step(ctx, openStore(ctx));
  }
}

export interface FileState {
  readonly text: string;
  readonly ino: number;
  readonly mtimeMs: number;
}

/** Every regular file under the root: content, inode and mtime (a rewrite with the same bytes still shows). */
export function snapshot(root: string): Map<string, FileState> {
  const out = new Map<string, FileState>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = lstatSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile())
        out.set(relative(root, path), { text: readFileSync(path, 'utf8'), ino: st.ino, mtimeMs: statSync(path).mtimeMs });
    }
  };
  walk(root);
  return out;
}

export function read(root: string, path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

/** Runs the steps again and asserts they change nothing: byte-identical, and no file rewritten (same inode and mtime). */
export function upgradeAgainChangesNothing(
  t: Test,
  root: string,
  env: NodeJS.ProcessEnv = {},
  message = 'a second upgrade changes nothing',
): void {
  const before = snapshot(root);
  upgrade(root, env);
  t.same(snapshot(root), before, message);
}

/** The root's committed and staged uci config, as the services would read it. */
export function uciOf(root: string): Uci {
  return new Uci({ confdir: join(root, 'etc/config'), savedir: join(root, 'tmp/.uci'), conf2dir: null });
}
