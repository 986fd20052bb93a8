/**
 * Where a script works: the root (MESHWAN_ROOT, set by meshwan-reconfigure --root; `/` on a node), the site file
 * under that root, and the uci config and save directories under it. Scripts never look at the real / when
 * given a root, so tests and image builds can run them on a staged tree.
 */
import { proc } from '@meshwan/os';
import { defaultSite, loadSite, type Site } from '@meshwan/site';
import { configPaths } from '@meshwan/uci';
import { fileExists } from './files.js';

/** The environment variables a script reads (MESHWAN_ROOT, MESHWAN_SITE); tests pass their own. */
export type Env = Readonly<Record<string, string | undefined>>;

/** This process's MESHWAN_ROOT and MESHWAN_SITE, through the seam (QuickJS has no process.env). */
export function processEnv(): Env {
  return { MESHWAN_ROOT: proc.env('MESHWAN_ROOT'), MESHWAN_SITE: proc.env('MESHWAN_SITE') };
}

export interface Context {
  readonly root: string;
  readonly site: Site;
  /** /etc/config under the root. */
  readonly confdir: string;
  /** libuci's save directory (/tmp/.uci) under the root: changes are staged here and committed by 990. */
  readonly savedir: string;
  /** Resolves an absolute path of the node (/etc/group) to the path under the root. */
  path(absolute: string): string;
}

/** MESHWAN_SITE wins (as in loadSite); else the root's /lib/gluon/site.ini; else Gluon's defaults. */
export function siteFor(root: string, env: Env = processEnv()): Site {
  if (env.MESHWAN_SITE !== undefined && env.MESHWAN_SITE !== '') return loadSite(env.MESHWAN_SITE);
  const file = `${root.replace(/\/+$/, '')}/lib/gluon/site.ini`;
  return fileExists(file) ? loadSite(file) : defaultSite();
}

export function contextFor(root: string, env: Env = processEnv()): Context {
  return {
    root,
    site: siteFor(root, env),
    confdir: configPaths(root).confdir,
    savedir: configPaths(root).savedir,
    path: (absolute: string) => `${root.replace(/\/+$/, '')}/${absolute.replace(/^\/+/, '')}`,
  };
}

export function contextFromEnv(env: Env = processEnv()): Context {
  return contextFor(env.MESHWAN_ROOT !== undefined && env.MESHWAN_ROOT !== '' ? env.MESHWAN_ROOT : '/', env);
}
