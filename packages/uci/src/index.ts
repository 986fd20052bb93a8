/**
 * @packageDocumentation
 * @meshwan/uci: OpenWrt's uci (libuci) in TypeScript: the config file grammar, delta files, commit, and the
 * `uci` command, behaving byte for byte as OpenWrt's.
 */
import { byteBuffer, fromBytes, inputBytes } from './bytes.js';
import { exportPackage, showPackage } from './format.js';
import type { UciPackage } from './model.js';
import { type ParseOptions, parseUci as parseBytes } from './parser.js';

export { UCI_CONF2DIR, UCI_CONFDIR, UCI_SAVEDIR, UciContext } from './context.js';
export { NumberError, UCI_ERRSTR, UciError, type UciErrorCode, UciParseError } from './errors.js';
export { type AtomicWriteOptions, writeFileAtomic } from './files.js';
export { anonymousName, type DeltaCmd, type UciDelta, type UciOption, type UciPackage, type UciSection } from './model.js';
export { configPaths, type OpenConfigOptions, openConfig, sectionsIfPresent } from './open.js';
export { LineError, OptionError, PlaceError } from './place-errors.js';
export { Uci, type UciChange, type UciOptions, type UciSectionInfo } from './uci.js';
export { parseUnsigned, readUnsigned, type Unsigned, type UnsignedRange } from './unsigned.js';
export type { ParseOptions };

/** Parse one config file's text (UTF-8 string or raw bytes). Throws UciParseError with libuci's reason, line, byte. */
export function parseUci(text: string | Uint8Array, opts: { file?: string; package?: string; strict?: boolean } = {}): UciPackage {
  return parseBytes(inputBytes(text), { file: opts.file, package: opts.package, strict: opts.strict });
}

export interface ExportUciOptions {
  /** Start with `package NAME`, as `uci export` (default true); false gives the committed file's content. */
  header?: boolean;
  /** Name anonymous sections (uci -n). */
  exportNames?: boolean;
}

/** `uci export` output as raw bytes. */
export function exportUciBytes(pkg: UciPackage, opts: ExportUciOptions = {}): Uint8Array {
  return byteBuffer(exportPackage(pkg, { header: opts.header ?? true, exportNames: opts.exportNames ?? false }));
}

/** `uci export` output as text. */
export function exportUci(pkg: UciPackage, opts: ExportUciOptions = {}): string {
  return fromBytes(exportPackage(pkg, { header: opts.header ?? true, exportNames: opts.exportNames ?? false }));
}

/** `uci show` output (`extended` false = uci -X; `delimiter` = uci -d). */
export function showUci(pkg: UciPackage, opts: { extended?: boolean; delimiter?: string } = {}): string {
  return fromBytes(showPackage(pkg, opts.extended ?? true, opts.delimiter ?? ' '));
}
