/**
 * The typed API: a libuci context for programs (upgrade scripts, daemons). Names are plain strings, values
 * UTF-8 JS strings. Every edit is staged at once in the save dir as a libuci delta (as the `uci` command
 * does), so OpenWrt's uci sees it and `commit` writes it.
 */
import { fromBytes, toBytes } from './bytes.js';
import { type ContextOptions, type Loaded, UciContext } from './context.js';
import { UciError } from './errors.js';
import { exportPackage, showPackage } from './format.js';
import { clonePackage, type DeltaCmd, type UciPackage } from './model.js';
import { addListItem, addSection, deleteEntry, delListItem, renameEntry, reorderSection, setValue } from './ops.js';
import type { UciPtr } from './ptr.js';

export interface UciOptions {
  /** Config dir, default /etc/config (uci -c). */
  confdir?: string;
  /** Save dir for staged changes, default /tmp/.uci (uci -t). */
  savedir?: string;
  /** Override config dir, default /var/run/uci (uci -C); null disables it. */
  conf2dir?: string | null;
  /** Extra dirs whose staged changes are read too (uci -p). */
  deltaPaths?: readonly string[];
  /** Stop at the first parse error (default true, as uci; false = uci -S). */
  strict?: boolean;
}

/** A section as `sections()` returns it. `index` is N in `@type[N]`. */
export interface UciSectionInfo {
  readonly name: string;
  readonly type: string;
  readonly anonymous: boolean;
  readonly index: number;
  readonly options: Readonly<Record<string, string | readonly string[]>>;
}

/** A staged change, as `uci changes` lists it. */
export interface UciChange {
  readonly package: string;
  readonly cmd: DeltaCmd;
  readonly section: string;
  readonly option: string | null;
  readonly value: string | null;
}

function valueOut(v: string | string[]): string | string[] {
  return typeof v === 'string' ? fromBytes(v) : v.map(fromBytes);
}

export class Uci {
  private readonly ctx: UciContext;

  constructor(opts: UciOptions = {}) {
    const ctxOpts: ContextOptions = { confdir: opts.confdir, savedir: opts.savedir, deltaPaths: opts.deltaPaths, strict: opts.strict };
    if (opts.conf2dir !== undefined) ctxOpts.conf2dir = opts.conf2dir;
    this.ctx = new UciContext(ctxOpts);
  }

  get confdir(): string {
    return this.ctx.confdir;
  }

  get savedir(): string {
    return this.ctx.savedir;
  }

  private loaded(pkg: string): Loaded {
    return this.ctx.load(pkg);
  }

  private ptr(op: string, pkg: string, section?: string, option?: string, value?: string): { ptr: UciPtr; l: Loaded } {
    const parts = [pkg, section, option].filter((x): x is string => x !== undefined);
    for (const part of parts) {
      if (part.includes('.') || part.includes('=')) throw new UciError('INVAL', op, parts.join('.'));
    }
    const { ptr, l } = this.ctx.lookup(parts.join('.'), op);
    if (value !== undefined) ptr.value = toBytes(value);
    return { ptr, l };
  }

  private stage(l: Loaded): void {
    this.ctx.save(l);
  }

  /** (Re)load a package from its file and staged changes. Throws NOTFOUND or UciParseError. */
  load(pkg: string): void {
    this.ctx.unload(pkg);
    this.ctx.load(pkg);
  }

  /** A copy of the package tree as loaded (values as byte strings, see README). */
  package(pkg: string): UciPackage {
    return clonePackage(this.loaded(pkg).pkg);
  }

  /** An option's value (string or list), or with no option the section's type; undefined when missing. */
  get(pkg: string, section: string, option?: string): string | string[] | undefined {
    const { ptr } = this.ptr('get', pkg, section, option);
    if (!ptr.complete) return undefined;
    if (ptr.o) return valueOut(ptr.o.value);
    return ptr.s?.type;
  }

  /** Set an option (`set(pkg, sec, opt, value)`) or create/retype a named section (`set(pkg, sec, type)`). */
  set(pkg: string, section: string, optionOrType: string, value?: string): void {
    const { ptr, l } =
      value === undefined ? this.ptr('set', pkg, section, undefined, optionOrType) : this.ptr('set', pkg, section, optionOrType, value);
    setValue(l.pkg, ptr, l.pending);
    this.stage(l);
  }

  /** Add an anonymous section of `type`; returns its generated name (cfgXXXXXX). */
  add(pkg: string, type: string): string {
    const l = this.loaded(pkg);
    if (!/^[\x21-\x7e]+$/.test(type)) throw new UciError('INVAL', 'add', `${pkg} ${type}`);
    const s = addSection(l.pkg, type, l.pending);
    this.stage(l);
    return s.name;
  }

  /** Append a list item (a single value becomes a list first). */
  addList(pkg: string, section: string, option: string, value: string): void {
    const { ptr, l } = this.ptr('add_list', pkg, section, option, value);
    addListItem(l.pkg, ptr, l.pending);
    this.stage(l);
  }

  /** Remove every list item equal to `value`. */
  delList(pkg: string, section: string, option: string, value: string): void {
    const { ptr, l } = this.ptr('del_list', pkg, section, option, value);
    delListItem(l.pkg, ptr, l.pending);
    this.stage(l);
  }

  /** Delete a section or option; with `index`, one item of a list. Throws NOTFOUND when missing. */
  delete(pkg: string, section: string, option?: string, index?: number): void {
    const { ptr, l } = this.ptr('delete', pkg, section, option, index === undefined ? undefined : String(index));
    deleteEntry(l.pkg, ptr, l.pending);
    this.stage(l);
  }

  /** Rename a section (`rename(pkg, sec, newName)`) or an option (`rename(pkg, sec, opt, newName)`). */
  rename(pkg: string, section: string, optionOrName: string, newName?: string): void {
    const { ptr, l } =
      newName === undefined
        ? this.ptr('rename', pkg, section, undefined, optionOrName)
        : this.ptr('rename', pkg, section, optionOrName, newName);
    if (!/^[A-Za-z0-9_]+$/.test(ptr.value ?? '')) throw new UciError('INVAL', 'rename', `${pkg}.${section}=${ptr.value}`);
    renameEntry(l.pkg, ptr, l.pending);
    this.stage(l);
  }

  /** Move a section to position `pos` (0 = first). */
  reorder(pkg: string, section: string, pos: number): void {
    const { ptr, l } = this.ptr('reorder', pkg, section);
    if (!ptr.s) throw new UciError('NOTFOUND', 'reorder', `${pkg}.${section}`);
    reorderSection(l.pkg, ptr.s, Math.trunc(pos), l.pending);
    this.stage(l);
  }

  /** The sections, in order, optionally only those of one type. */
  sections(pkg: string, type?: string): readonly UciSectionInfo[] {
    const counts = new Map<string, number>();
    const out: UciSectionInfo[] = [];
    for (const s of this.loaded(pkg).pkg.sections) {
      const index = counts.get(s.type) ?? 0;
      counts.set(s.type, index + 1);
      if (type !== undefined && s.type !== type) continue;
      const options: Record<string, string | readonly string[]> = {};
      for (const o of s.options) options[o.name] = valueOut(o.value);
      out.push({ name: s.name, type: s.type, anonymous: s.anonymous, index, options });
    }
    return out;
  }

  /** Staged changes of one package, or of every package in the config dir. */
  changes(pkg?: string): readonly UciChange[] {
    const names = pkg === undefined ? this.ctx.listConfigs() : [pkg];
    const out: UciChange[] = [];
    for (const name of names) {
      this.ctx.unload(name);
      const l = this.ctx.load(name);
      for (const d of l.pkg.savedDelta) {
        out.push({ package: name, cmd: d.cmd, section: d.section, option: d.option, value: d.value === null ? null : fromBytes(d.value) });
      }
    }
    return out;
  }

  /** Write staged changes to the config file (atomic, durable, under the file's flock) and clear them. */
  commit(pkg: string): void {
    const l = this.loaded(pkg);
    this.ctx.commit(l, false);
  }

  /** Drop staged changes of a package, section or option. */
  revert(pkg: string, section?: string, option?: string): void {
    const { ptr, l } = this.ptr('revert', pkg, section, option);
    this.ctx.revert(l, ptr.section, ptr.option);
  }

  /** `uci export PKG` output (with staged changes applied). */
  export(pkg: string): string {
    return fromBytes(exportPackage(this.loaded(pkg).pkg, { header: true }));
  }

  /** `uci show PKG` output. */
  show(pkg: string): string {
    return fromBytes(showPackage(this.loaded(pkg).pkg));
  }

  /** Forget the cached package (the next call reads the files again). */
  unload(pkg: string): void {
    this.ctx.unload(pkg);
  }
}
