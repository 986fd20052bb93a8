/**
 * libuci delta files (delta.c): one change per line, e.g. `network.lan.proto='static'`, `+network.cfg0a1b2c='rule'`,
 * `-network.wan`, `|network.lan.dns='2001:db8::1'`, `~…`, `@…` (rename), `^…` (reorder). Lines that do not parse
 * or do not apply are skipped, as libuci does, so a damaged line never loses the others.
 */
import { UciError } from './errors.js';
import type { DeltaCmd, UciDelta, UciPackage } from './model.js';
import { addListItem, deleteEntry, delListItem, renameEntry, reorderSection, setValue } from './ops.js';
import { lookupPtr, parsePtr, type UciPtr } from './ptr.js';
import { LineReader, ParseFail } from './reader.js';
import { validateName } from './validate.js';

const CMD_BY_CHAR: ReadonlyMap<string, DeltaCmd> = new Map([
  ['+', 'add'],
  ['-', 'remove'],
  ['@', 'rename'],
  ['^', 'reorder'],
  ['|', 'list_add'],
  ['~', 'list_del'],
]);

/** C strtoul(s, NULL, 10) converted to int, as libuci passes it to uci_reorder_section. */
export function strtoulInt(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(s);
  if (!m) return 0;
  let n = BigInt(m[2] ?? '0');
  const max = (1n << 64n) - 1n;
  if (n > max) n = max;
  if (m[1] === '-') n = -n & max;
  return Number(BigInt.asIntN(32, n));
}

/** uci_parse_delta_tuple: one delta line's command and address; throws INVAL/PARSE as libuci. */
function parseTuple(r: LineReader): { cmd: DeltaCmd; ptr: UciPtr } {
  const v = r.nextArg(false);
  if (r.cur() !== 0) throw new UciError('INVAL', 'delta', r.str(v));
  let arg = r.str(v);
  const cmd = CMD_BY_CHAR.get(arg[0] ?? '') ?? 'change';
  if (cmd !== 'change') arg = arg.slice(1);
  const ptr = parsePtr(arg, 'delta');
  const bad = ptr.section === undefined || ptr.extended || (cmd !== 'remove' && ptr.value === undefined);
  if (bad) throw new UciError('INVAL', 'delta', arg);
  if (cmd === 'reorder' && ptr.option !== undefined) throw new UciError('INVAL', 'delta', arg);
  if (cmd === 'rename' && !validateName(ptr.value ?? '')) throw new UciError('INVAL', 'delta', arg);
  if ((cmd === 'list_add' || cmd === 'list_del') && ptr.option === undefined) throw new UciError('INVAL', 'delta', arg);
  return { cmd, ptr };
}

/** Apply one change to a package without recording it (libuci UCI_INTERNAL). Throws when it does not apply. */
/** The delta lines that replay one edit of ops.ts as it is (`@` rename, `-` remove, `|` list_add, `~` list_del). */
const deltaEdits = { rename: renameEntry, remove: deleteEntry, list_add: addListItem, list_del: delListItem } as const;

function applyDelta(p: UciPackage, cmd: DeltaCmd, ptr: UciPtr, leak: UciDelta[] | null = null): void {
  lookupPtr(p, ptr, 'delta');
  switch (cmd) {
    case 'reorder':
      if (!ptr.complete || !ptr.s) throw new UciError('NOTFOUND', 'reorder', ptr.section ?? '');
      reorderSection(p, ptr.s, strtoulInt(ptr.value ?? ''), null);
      return;
    case 'rename':
    case 'remove':
    case 'list_add':
    case 'list_del':
      deltaEdits[cmd](p, ptr, null);
      return;
    case 'add':
      setValue(p, ptr, null, 'delta', leak);
      if (ptr.option === undefined && ptr.s) ptr.s.anonymous = true;
      return;
    case 'change':
      setValue(p, ptr, null, 'delta', leak);
      return;
  }
}

/** One parsed delta line. */
export interface ParsedDelta {
  pkg: string;
  delta: UciDelta;
  ptr: UciPtr;
}

/** Walk the lines of a delta file; `each` gets every line that parses. Bad lines are skipped. */
export function readDeltaLines(input: Uint8Array, each: (d: ParsedDelta) => void, onBad?: () => void): void {
  const r = new LineReader(input);
  while (!r.eof) {
    r.pos = 0;
    r.getln(0);
    if (r.at(0) === 0) continue;
    let parsed: { cmd: DeltaCmd; ptr: UciPtr };
    try {
      parsed = parseTuple(r);
    } catch (err: unknown) {
      if (!(err instanceof UciError || err instanceof ParseFail)) throw err;
      onBad?.();
      continue;
    }
    const { cmd, ptr } = parsed;
    each({
      pkg: ptr.package,
      ptr,
      delta: { cmd, section: ptr.section ?? '', option: ptr.option ?? null, value: ptr.value ?? null },
    });
  }
}

/**
 * uci_parse_delta: apply a delta file to `p`, appending each parsed line to `p.savedDelta` (even when it then
 * fails to apply, as libuci does). Returns the number of changes applied. Deletions that a `NAME=''` line
 * causes are recorded in `leak`, as libuci records them in the package's unsaved changes (see ops.setValue).
 */
export function loadDelta(p: UciPackage, input: Uint8Array, leak: UciDelta[] | null = null): number {
  let changes = 0;
  readDeltaLines(input, ({ pkg, delta, ptr }) => {
    if (pkg !== p.name) return;
    p.savedDelta.push(delta);
    try {
      applyDelta(p, delta.cmd, ptr, leak);
      changes++;
    } catch (err: unknown) {
      if (!(err instanceof UciError)) throw err;
    }
  });
  return changes;
}
