/**
 * A uci context (libuci struct uci_context): config dir, override dir, save dirs, and the packages loaded
 * from them. Loads files with their staged deltas, saves new deltas, commits, reverts, exactly as libuci's
 * file backend (file.c) and delta code (delta.c) do. Works on byte strings; the Uci class wraps it.
 */
import { files } from '@meshwan/os';
import { byteBuffer } from './bytes.js';
import { loadDelta, readDeltaLines } from './delta.js';
import { UciError, type UciParseError } from './errors.js';
import {
  closeLocked,
  type LockedFile,
  openLocked,
  readAll,
  readLocked,
  statOrNull,
  UCI_DIRMODE,
  UCI_FILEMODE,
  writeAtomic,
} from './files.js';
import { exportPackage, formatDelta } from './format.js';
import type { UciDelta, UciPackage } from './model.js';
import { importUci } from './parser.js';
import { lookupPtr, parsePtr, type UciPtr } from './ptr.js';
import { validatePackage } from './validate.js';

export const UCI_CONFDIR = '/etc/config';
export const UCI_CONF2DIR = '/var/run/uci';
export const UCI_SAVEDIR = '/tmp/.uci';

export interface ContextOptions {
  /** Config dir (uci -c), default /etc/config. */
  confdir?: string | undefined;
  /** Override config dir (uci -C), default /var/run/uci; '' or null disables it. */
  conf2dir?: string | null | undefined;
  /** Save dir for new deltas, default /tmp/.uci. It is also read (last). */
  savedir?: string | undefined;
  /** Extra dirs whose deltas are read, before the save dir (uci -p). */
  deltaPaths?: readonly string[] | undefined;
  /** Stop at the first parse error (default). */
  strict?: boolean | undefined;
  /** Called for parse errors skipped in non-strict mode. */
  onParseError?: ((err: UciParseError) => void) | undefined;
}

/** A loaded package with libuci's bookkeeping (uci_package path, has_delta, uses_conf2, delta). */
export interface Loaded {
  pkg: UciPackage;
  path: string | null;
  /** Lives in the config dir, so changes go through the save dir (false for `uci get /tmp/file.x.y`). */
  hasDelta: boolean;
  usesConf2: boolean;
  /** Changes made in this context and not yet saved to the save dir. */
  pending: UciDelta[];
}

export class UciContext {
  confdir: string;
  conf2dir: string | null;
  savedir: string;
  /** libuci ctx->delta_path: read in order, the save dir last. */
  deltaPaths: string[];
  strict: boolean;
  /** Name anonymous sections when writing (libuci UCI_FLAG_EXPORT_NAME, `uci -n`): applies to commits too. */
  exportNames = false;
  onParseError: ((err: UciParseError) => void) | undefined;
  /** Called when libuci would start a new parse context (a config or delta file was opened to be parsed). */
  onParseStart: (() => void) | undefined;
  readonly loaded = new Map<string, Loaded>();

  constructor(opts: ContextOptions = {}) {
    this.confdir = opts.confdir ?? UCI_CONFDIR;
    this.conf2dir = opts.conf2dir === undefined ? UCI_CONF2DIR : opts.conf2dir || null;
    this.savedir = opts.savedir ?? UCI_SAVEDIR;
    // Only the dirs asked for: libuci's uci_set_savedir keeps reading /tmp/.uci too (the `uci` command gets that
    // through setSavedir), but a program staging under another root must not pick up the host's changes.
    this.deltaPaths = [...(opts.deltaPaths ?? [])].filter((d) => d !== this.savedir);
    this.deltaPaths.push(this.savedir);
    this.strict = opts.strict ?? true;
    this.onParseError = opts.onParseError;
  }

  /** uci_add_delta_path (uci -p): read deltas from `dir` too, before the save dir. Duplicates are refused. */
  addDeltaPath(dir: string): void {
    if (this.deltaPaths.includes(dir)) throw new UciError('DUPLICATE', 'add_delta_path', dir);
    this.deltaPaths.splice(this.deltaPaths.length - 1, 0, dir);
  }

  /** uci_set_savedir (uci -t, -P): write deltas to `dir`; the old save dir stays on the read path. */
  setSavedir(dir: string): void {
    this.deltaPaths = this.deltaPaths.filter((d) => d !== dir);
    this.deltaPaths.push(dir);
    this.savedir = dir;
  }

  private configPath(name: string, conf2: boolean): string | null {
    if (!validatePackage(name)) throw new UciError('INVAL', 'load', name);
    const dir = conf2 ? this.conf2dir : this.confdir;
    return dir === null ? null : `${dir}/${name}`;
  }

  /** uci_load: parse the file, then apply staged deltas. Throws NOTFOUND for a missing file. */
  load(name: string): Loaded {
    const cached = this.loaded.get(name);
    if (cached) return cached;
    let path: string;
    let pkgName = name;
    let hasDelta = true;
    let usesConf2 = false;
    if (name[0] === '.' || name[0] === '/') {
      // A path outside the config dir: no deltas, edits go straight to the file.
      if (name[0] === '.' && name[1] !== '/') throw new UciError('NOTFOUND', 'load', name);
      path = name;
      pkgName = name.slice(name.lastIndexOf('/') + 1);
      hasDelta = false;
    } else {
      const p2 = this.configPath(name, true);
      if (p2 !== null && statOrNull(p2) !== null) {
        path = p2;
        usesConf2 = true;
      } else {
        path = this.configPath(name, false) as string;
      }
    }
    const bytes = readLocked(path);
    if (bytes === null) throw new UciError('NOTFOUND', 'load', name);
    this.onParseStart?.();
    if (!validatePackage(pkgName)) throw new UciError('INVAL', 'load', name);
    const pkg = this.parse(bytes, pkgName, path);
    const l: Loaded = { pkg, path, hasDelta, usesConf2, pending: [] };
    if (hasDelta) this.applyDeltas(pkg, null, l.pending);
    this.loaded.set(pkg.name, l);
    return l;
  }

  private parse(bytes: Uint8Array, name: string, file: string): UciPackage {
    const pkgs = importUci(bytes, { package: name, file, single: true, strict: this.strict, onError: this.onParseError });
    const pkg = pkgs[pkgs.length - 1];
    if (!pkg) throw new UciError('NOTFOUND', 'load', name);
    return pkg;
  }

  /** uci_load_delta: apply every delta path's file for this package; returns the number of changes. */
  private applyDeltas(pkg: UciPackage, held: LockedFile | null = null, leak: UciDelta[] | null = null): number {
    let changes = 0;
    for (const dir of this.deltaPaths) {
      const file = `${dir}/${pkg.name}`;
      // A file we already hold locked is read through that lock (a second flock would wait for ourselves).
      const bytes = held && file === held.path ? readAll(held.fd) : readLocked(file);
      if (bytes !== null) this.onParseStart?.();
      if (bytes !== null) changes += loadDelta(pkg, bytes, leak);
    }
    return changes;
  }

  unload(name: string): void {
    this.loaded.delete(name);
  }

  /** Resolve an address (uci_lookup_ptr), loading its package. */
  lookup(str: string, op: string, extended = true): { ptr: UciPtr; l: Loaded } {
    const ptr = parsePtr(str, op);
    const l = this.load(ptr.package);
    lookupPtr(l.pkg, ptr, op, extended);
    return { ptr, l };
  }

  /** The mode libuci gives new files for package `name`: that of its config file, else 0600. */
  private fileMode(name: string): number {
    const st = statOrNull(`${this.confdir}/${name.slice(name.lastIndexOf('/') + 1)}`);
    return st ? st.mode : UCI_FILEMODE;
  }

  /** uci_save: append pending changes to the save dir's delta file (packages outside the config dir commit). */
  save(l: Loaded): void {
    if (!l.hasDelta) {
      this.commit(l, false);
      return;
    }
    if (l.pending.length === 0) return;
    const st = statOrNull(this.savedir);
    if (!st) {
      const conf = statOrNull(this.confdir);
      try {
        // One level, as libuci's mkdir: a save dir whose parent is missing fails at its delta file's open.
        const slash = this.savedir.lastIndexOf('/');
        const parent = slash < 0 ? '.' : this.savedir.slice(0, slash) || '/';
        if (statOrNull(parent)?.type === 'directory') files.mkdirp(this.savedir, conf ? conf.mode & 0o7777 : UCI_DIRMODE);
      } catch (err: unknown) {
        if (!(err instanceof Error)) throw err;
      }
    } else if (st.type !== 'directory') {
      throw new UciError('IO', 'save', this.savedir);
    }
    const file = `${this.savedir}/${l.pkg.name}`;
    const f = openLocked(file, this.fileMode(l.pkg.name), true, false);
    try {
      const text = l.pending.map((d) => formatDelta(l.pkg.name, d)).join('');
      const data = byteBuffer(text);
      files.writeAt(f.fd, data, files.fstat(f.fd).size);
      l.pending = [];
    } finally {
      closeLocked(f);
    }
  }

  /**
   * uci_commit: under the config file's lock, re-read the file and every staged delta, write the result
   * atomically, then empty the save dir's delta file. With `overwrite` (import), write the package as it is.
   * Commits nothing (and leaves the file alone) when no delta applies, as libuci.
   */
  commit(l: Loaded, overwrite: boolean): void {
    const name = l.pkg.name;
    if (l.path === null && overwrite) l.path = this.configPath(name, l.usesConf2);
    const path = l.path;
    if (path === null) throw new UciError('INVAL', 'commit', name);
    const cfg = openLocked(path, this.fileMode(name), true, true);
    try {
      let pkg = l.pkg;
      let delta: LockedFile | null = null;
      try {
        if (l.hasDelta) {
          if (!overwrite) {
            this.save(l);
            this.onParseStart?.();
            pkg = this.parse(readAll(cfg.fd), name, path);
          }
          // Hold the save dir's delta file while reading and until it is emptied, so a change another
          // process saves meanwhile waits for us instead of being truncated away (libuci drops the lock here).
          const deltaFile = `${this.savedir}/${name}`;
          if (statOrNull(deltaFile)?.type === 'file') delta = openLocked(deltaFile, UCI_FILEMODE, false, false);
          pkg.savedDelta = [];
          const changes = this.applyDeltas(pkg, delta);
          l.pkg = pkg;
          if (changes === 0) return;
        }
        const mode = statOrNull(path)?.mode ?? UCI_FILEMODE;
        writeAtomic(path, name, byteBuffer(exportPackage(pkg, { exportNames: this.exportNames })), mode);
        if (delta) files.truncate(delta.fd, 0);
      } finally {
        if (delta) closeLocked(delta);
      }
    } finally {
      closeLocked(cfg);
    }
  }

  /** uci_revert: drop staged changes for a package, section or option from the save dir, then reload. */
  revert(l: Loaded, section: string | undefined, option: string | undefined): Loaded {
    if (!l.hasDelta) throw new UciError('INVAL', 'revert', l.pkg.name);
    this.save(l);
    const name = l.pkg.name;
    this.unload(name);
    this.filterDelta(name, section, option);
    return this.load(name);
  }

  private filterDelta(name: string, section: string | undefined, option: string | undefined): void {
    const file = `${this.savedir}/${name}`;
    let f: ReturnType<typeof openLocked>;
    try {
      f = openLocked(file, UCI_FILEMODE, false, false);
    } catch (err: unknown) {
      if (err instanceof UciError) return;
      throw err;
    }
    try {
      const kept: string[] = [];
      let ok = true;
      this.onParseStart?.();
      readDeltaLines(
        readAll(f.fd),
        ({ delta }) => {
          let match = true;
          if (section !== undefined && delta.section !== section) match = false;
          if (match && option !== undefined && delta.option !== option) match = false;
          if (!match) kept.push(formatDelta(name, delta));
        },
        () => {
          ok = false;
        },
      );
      // libuci gives up (and keeps the file) at the first line it cannot parse.
      if (!ok) return;
      const data = byteBuffer(kept.join(''));
      files.truncate(f.fd, 0);
      files.writeAt(f.fd, data, 0);
    } finally {
      closeLocked(f);
    }
  }

  /** uci_list_configs: names in the config dir, sorted, skipping dirs, dotted and invalid names. */
  listConfigs(): string[] {
    let names: string[];
    try {
      names = files.list(this.confdir);
    } catch (err: unknown) {
      if (err instanceof Error) throw new UciError('NOTFOUND', 'list_configs', this.confdir);
      throw err;
    }
    names = names.filter((n) => !n.startsWith('.')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (names.length === 0) throw new UciError('NOTFOUND', 'list_configs', this.confdir);
    return names.filter((n) => statOrNull(`${this.confdir}/${n}`)?.type !== 'directory' && !n.includes('.') && validatePackage(n));
  }
}
