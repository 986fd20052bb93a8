/**
 * The uci file grammar (libuci file.c uci_import, uci_parse_line, uci_parse_package/config/option): `package`,
 * `config TYPE ['NAME']`, `option NAME VALUE`, `list NAME VALUE`, each keyword also as its first letter,
 * several commands per line separated by ';', comments. Duplicate named sections merge into the first one.
 */
import { encodeUtf8 } from '@meshwan/os';
import { UciError, UciParseError } from './errors.js';
import { findOption, findSection, newPackage, type UciPackage, type UciSection } from './model.js';
import { addListItem, addSection, type DeltaSink, setValue } from './ops.js';
import { type ByteStream, LineReader, ParseFail } from './reader.js';
import { validateName, validatePackage, validateStr, validateType } from './validate.js';

export interface ParseOptions {
  /** Package name when the text has no `package` line (libuci: the file name). */
  package?: string | undefined;
  /** File name for error messages. */
  file?: string | undefined;
  /** Stop at the first error (libuci UCI_FLAG_STRICT, the default). Non-strict skips bad lines. */
  strict?: boolean | undefined;
  /** Called for each skipped error in non-strict mode (libuci prints them with -S). */
  onError?: ((err: UciParseError) => void) | undefined;
  /** Merge into this package, recording deltas (libuci import -m). */
  merge?: { pkg: UciPackage; rec: DeltaSink } | undefined;
  /** Parse a single package (libuci `single`): a `package` line only checks its name. */
  single?: boolean | undefined;
}

interface State {
  r: LineReader;
  name: string | null;
  pkg: UciPackage | null;
  section: UciSection | null;
  done: UciPackage[];
  strict: boolean;
  merge: { pkg: UciPackage; rec: DeltaSink } | null;
}

function switchConfig(st: State): void {
  if (st.pkg) {
    st.done.push(st.pkg);
    st.pkg = null;
    st.section = null;
  }
  if (st.name === null) return;
  if (st.done.some((p) => p.name === st.name)) throw new UciError('DUPLICATE', 'import', st.name);
  st.pkg = newPackage(st.name);
}

/** The keyword at pos has been NUL-terminated by strtok; step over it (uci_increase_pos). */
function skipKeyword(st: State, reason: string): void {
  const add = st.r.strlen(st.r.pos) + 1;
  if (st.r.pos + add > st.r.filled) st.r.error(reason);
  st.r.pos += add;
}

function assertEol(st: State): void {
  const r = st.r;
  r.skipWhitespace();
  const v = r.nextArg(false);
  if (r.at(v) !== 0 && st.strict) r.error('too many arguments');
}

function parsePackage(st: State, single: boolean): void {
  skipKeyword(st, 'package without name');
  const v = st.r.nextArg(true, (s) => validateStr(s, true, true));
  assertEol(st);
  if (single) return;
  st.name = st.r.str(v);
  switchConfig(st);
}

function parseConfig(st: State): void {
  const r = st.r;
  if (!st.pkg) {
    if (st.name === null) r.error('attempting to import a file without a package name');
    switchConfig(st);
  }
  skipKeyword(st, 'config without name');
  const tv = r.nextArg(true);
  if (!validateType(r.str(tv))) r.error('invalid character in type field');
  const nv = r.nextArg(false, validateName);
  assertEol(st);
  const type = r.str(tv);
  const name = r.str(nv);
  const pkg = st.pkg as UciPackage;
  const rec = st.merge ? st.merge.rec : null;
  if (name === '') {
    st.section = addSection(pkg, type, rec);
    return;
  }
  const existing = findSection(pkg, name);
  if (existing && st.strict && existing.type !== type) {
    r.error('section of different type overwrites prior section with same name');
  }
  const ptr = { package: pkg.name, section: name, value: type, extended: false, s: existing, complete: false };
  setValue(pkg, ptr, rec);
  st.section = ptr.s ?? null;
}

function parseOption(st: State, list: boolean): void {
  const r = st.r;
  const s = st.section ?? r.error('option/list command found before the first section');
  skipKeyword(st, 'option without name');
  const nv = r.nextArg(true, validateName);
  const vv = r.nextArg(false);
  assertEol(st);
  const name = r.str(nv);
  const value = r.str(vv);
  const pkg = st.pkg as UciPackage;
  const rec = st.merge ? st.merge.rec : null;
  if (rec === null) {
    // The common case, without delta bookkeeping: the same outcome as uci_set/uci_add_list below.
    const o = findOption(s, name);
    if (list) {
      if (!o) s.options.push({ name, value: [value] });
      else if (typeof o.value === 'string') o.value = [o.value, value];
      else o.value.push(value);
    } else if (value !== '') {
      if (o) o.value = value;
      else s.options.push({ name, value });
    }
    return;
  }
  const ptr = { package: pkg.name, section: s.name, option: name, value, extended: false, s, o: findOption(s, name), complete: false };
  if (list) addListItem(pkg, ptr, rec);
  else setValue(pkg, ptr, rec);
}

/** C strtok(str, " \t") called on the current position: returns the token start or -1; NUL-terminates it. */
function strtok(r: LineReader): number {
  let i = r.pos;
  while (r.at(i) === 32 || r.at(i) === 9) i++;
  if (r.at(i) === 0) return -1;
  const start = i;
  while (r.at(i) !== 0 && r.at(i) !== 32 && r.at(i) !== 9) i++;
  if (r.at(i) !== 0) r.set(i, 0);
  return start;
}

/** The word at `w` is the keyword or its first letter (`c`/`config`), compared in place without a string. */
function isKeyword(r: LineReader, w: number, rest: string): boolean {
  if (r.at(w + 1) === 0) return true;
  for (let i = 0; i < rest.length; i++) if (r.at(w + 1 + i) !== rest.charCodeAt(i)) return false;
  return r.at(w + 1 + rest.length) === 0;
}

/** uci_parse_line's commands by their first letter: the rest of the keyword, and what parses the command. */
const lineCommands: ReadonlyMap<number, readonly [rest: string, parse: (st: State, single: boolean) => void]> = new Map([
  [112, ['ackage', parsePackage]], // 'p'
  [99, ['onfig', (st) => parseConfig(st)]], // 'c'
  [111, ['ption', (st) => parseOption(st, false)]], // 'o'
  [108, ['ist', (st) => parseOption(st, true)]], // 'l'
]);

function parseLine(st: State, single: boolean): void {
  // typed, so that r.error (never) narrows `command` below
  const r: LineReader = st.r;
  r.skipWhitespace();
  for (;;) {
    const w = strtok(r);
    if (w < 0) return;
    const first = r.at(w);
    if (first === 35) return; // '#'
    const command = lineCommands.get(first);
    if (command === undefined || !isKeyword(r, w, command[0])) r.error('invalid command');
    command[1](st, single);
  }
}

/**
 * libuci uci_import: parse every package in `input`. With a `package` option the text needs no `package`
 * line. Throws UciParseError (strict) with libuci's reason, line and byte.
 */
export function importUci(input: Uint8Array | ByteStream | LineReader, opts: ParseOptions = {}): UciPackage[] {
  const r = input instanceof LineReader ? input : new LineReader(input);
  const merge = opts.merge ?? null;
  const single = opts.single ?? merge !== null;
  const st: State = {
    r,
    name: opts.package ?? null,
    pkg: merge ? merge.pkg : null,
    section: null,
    done: [],
    strict: opts.strict ?? true,
    merge,
  };
  const file = opts.file ?? opts.package ?? '';
  while (!r.eof) {
    r.pos = 0;
    r.getln(0);
    if (r.at(0) === 0) continue;
    try {
      parseLine(st, single);
    } catch (err: unknown) {
      if (!(err instanceof ParseFail)) throw err;
      const e = new UciParseError(file, err.reason, r.line, r.byte);
      opts.onError?.(e);
      if (st.strict) throw e;
    }
  }
  if (!st.pkg && opts.package !== undefined) switchConfig(st);
  st.name = null;
  if (merge) st.pkg = null;
  switchConfig(st);
  return st.done;
}

/** Parse one package's text (a file in /etc/config), as `uci` loads it. */
export function parseUci(input: string | Uint8Array, opts: ParseOptions = {}): UciPackage {
  const name = opts.package ?? (opts.file ? (opts.file.split('/').pop() ?? 'config') : 'config');
  if (!validatePackage(name)) throw new UciParseError(opts.file ?? name, 'invalid package name', 0, 0);
  const bytes = typeof input === 'string' ? encodeUtf8(input) : input;
  const pkgs = importUci(bytes, { ...opts, package: name, single: true });
  return pkgs[0] ?? newPackage(name);
}
