/**
 * Text output, byte for byte as libuci and the uci command print it: export (file.c uci_export_package),
 * show/get values (cli.c uci_show_*), delta lines (delta.c uci_delta_save) and `uci changes`.
 * Inputs and outputs are byte strings (bytes.ts).
 */
import type { UciDelta, UciOption, UciPackage, UciSection } from './model.js';
import { ByteWriter } from './writer.js';

/** uci_escape: a single quote becomes '\'' (close, escaped quote, reopen). */
function escapeQuote(s: string): string {
  return s.includes("'") ? s.replaceAll("'", "'\\''") : s;
}

/** uci_print_value: the value in single quotes. */
function quoteValue(s: string): string {
  return `'${escapeQuote(s)}'`;
}

export interface ExportOptions {
  /** Start with `package NAME` (uci export does; committed files do not). */
  header?: boolean;
  /** Name anonymous sections too (uci -n). */
  exportNames?: boolean;
}

/** uci_export_package: the package in uci file syntax. */
export function exportPackage(p: UciPackage, opts: ExportOptions = {}): string {
  const w = new ByteWriter();
  writeExport(w, p, opts);
  return w.text();
}

/** exportPackage into a ByteWriter. */
export function writeExport(w: ByteWriter, p: UciPackage, opts: ExportOptions = {}): void {
  if (opts.header) w.put(`package ${escapeQuote(p.name)}\n`);
  const names = opts.exportNames ?? false;
  for (const s of p.sections) {
    w.put(!s.anonymous || names ? `\nconfig ${escapeQuote(s.type)} '${escapeQuote(s.name)}'\n` : `\nconfig ${escapeQuote(s.type)}\n`);
    for (const o of s.options) {
      const name = escapeQuote(o.name);
      if (typeof o.value === 'string') {
        w.put(`\toption ${name} '${escapeQuote(o.value)}'\n`);
      } else {
        for (const item of o.value) w.put(`\tlist ${name} '${escapeQuote(item)}'\n`);
      }
    }
  }
  w.put('\n');
}

const BLANK = /[ \t\r\n]/;

/** uci_show_value: `quote` for show (always quoted), not for get (lists quote items with blanks). */
export function showValue(o: UciOption, quote: boolean, delimiter = ' '): string {
  if (typeof o.value === 'string') return `${quote ? quoteValue(o.value) : o.value}\n`;
  const items = o.value.map((item) => (quote || BLANK.test(item) ? quoteValue(item) : item));
  return `${items.join(delimiter)}\n`;
}

/** uci_show_option: `pkg.section.option=value`. */
export function showOption(p: UciPackage, sectionRef: string, o: UciOption, delimiter = ' '): string {
  return `${p.name}.${sectionRef}.${o.name}=${showValue(o, true, delimiter)}`;
}

/** uci_show_section: `pkg.section=type` and its options. */
export function showSection(p: UciPackage, s: UciSection, sectionRef = s.name, delimiter = ' '): string {
  let out = `${p.name}.${sectionRef}=${s.type}\n`;
  for (const o of s.options) out += showOption(p, sectionRef, o, delimiter);
  return out;
}

/**
 * uci_show_package: every section; with `extended` (the default, uci without -X) anonymous sections are
 * shown as `@type[N]`, N counting all sections of that type, named ones included.
 */
export function showPackage(p: UciPackage, extended = true, delimiter = ' '): string {
  const w = new ByteWriter();
  writeShowPackage(w, p, extended, delimiter);
  return w.text();
}

/** showPackage into a ByteWriter (the command writes the bytes without building one big string). */
export function writeShowPackage(w: ByteWriter, p: UciPackage, extended = true, delimiter = ' '): void {
  const counts = new Map<string, number>();
  const pkg = p.name;
  for (const s of p.sections) {
    let ref = s.name;
    if (extended) {
      const n = counts.get(s.type) ?? 0;
      counts.set(s.type, n + 1);
      if (s.anonymous) ref = `@${s.type}[${n}]`;
    }
    const prefix = `${pkg}.${ref}`;
    w.put(`${prefix}=${s.type}\n`);
    for (const o of s.options) {
      w.put(`${prefix}.${o.name}=${typeof o.value === 'string' ? `'${escapeQuote(o.value)}'\n` : showValue(o, true, delimiter)}`);
    }
  }
}

const DELTA_PREFIX: Readonly<Record<UciDelta['cmd'], string>> = {
  add: '+',
  remove: '-',
  change: '',
  rename: '@',
  reorder: '^',
  list_add: '|',
  list_del: '~',
};

/** uci_delta_save: one line of a delta file. */
export function formatDelta(pkgName: string, d: UciDelta): string {
  let line = `${DELTA_PREFIX[d.cmd]}${pkgName}.${d.section}`;
  if (d.option !== null) line += `.${d.option}`;
  if (d.cmd === 'remove' && d.value === null) return `${line}\n`;
  return `${line}=${quoteValue(d.value ?? '')}\n`;
}

/** uci_show_changes: one line of `uci changes`. */
export function formatChange(pkgName: string, d: UciDelta): string {
  let line = `${d.cmd === 'remove' ? '-' : ''}${pkgName}.${d.section}`;
  if (d.option !== null) line += `.${d.option}`;
  if (d.cmd !== 'remove') {
    const op = d.cmd === 'list_add' ? '+=' : d.cmd === 'list_del' ? '-=' : '=';
    line += `${op}${quoteValue(d.value ?? '')}`;
  }
  return `${line}\n`;
}
