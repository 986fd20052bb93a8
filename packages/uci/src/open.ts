/**
 * The one way meshwan's programs open the config: the view OpenWrt's services get. libuci's uci_load of a
 * package in the confdir applies the staged deltas of its save dir (file.c uci_file_load → delta.c
 * uci_load_delta), so netifd (libuci's default context) and procd's `config_load` (`uci export`) both act on
 * the committed file plus the staged changes in /tmp/.uci, exactly what `uci show` prints. A root moves every
 * path, the save dir included, so a test or an image build never reads or writes the host's /tmp/.uci.
 */
import { UCI_CONF2DIR, UCI_CONFDIR, UCI_SAVEDIR } from './context.js';
import { UciError } from './errors.js';
import { Uci, type UciSectionInfo } from './uci.js';

export interface OpenConfigOptions {
  /** The node's root; default `/`. Every uci path is taken below it. */
  readonly root?: string;
}

/** The uci dirs of a root: confdir ROOT/etc/config, savedir ROOT/tmp/.uci, conf2dir ROOT/var/run/uci. */
export function configPaths(root = '/'): { confdir: string; savedir: string; conf2dir: string } {
  const base = root.replace(/\/+$/, '');
  return { confdir: base + UCI_CONFDIR, savedir: base + UCI_SAVEDIR, conf2dir: base + UCI_CONF2DIR };
}

/** A Uci context on the root's config with its staged changes: what netifd and `uci show` see. */
export function openConfig(opts: OpenConfigOptions = {}): Uci {
  return new Uci(configPaths(opts.root));
}

/** A package's sections with its staged changes, or undefined when ROOT/etc/config/PKG does not exist. */
export function sectionsIfPresent(uci: Uci, pkg: string, type?: string): readonly UciSectionInfo[] | undefined {
  try {
    return uci.sections(pkg, type);
  } catch (err: unknown) {
    if (err instanceof UciError && err.code === 'NOTFOUND') return undefined;
    throw err;
  }
}
