/**
 * Edits of a loaded package, with libuci's exact semantics (list.c uci_set, uci_add_section, uci_add_list,
 * uci_del_list, uci_delete, uci_rename, uci_reorder_section). Each records its delta in `rec` when given
 * (libuci skips recording for internal calls, e.g. while parsing a file or replaying deltas, with one leak:
 * see setValue).
 */
import { UciError } from './errors.js';
import { appendSection, findOption, invalidateIndex, type UciDelta, type UciPackage, type UciSection } from './model.js';
import type { UciPtr } from './ptr.js';
import { validateType } from './validate.js';

export type DeltaSink = UciDelta[] | null;

function target(p: UciPackage, ptr: UciPtr): string {
  return [p.name, ptr.section, ptr.option].filter((x) => x !== undefined).join('.');
}

/** C sscanf("%d"): leading blanks, optional sign, digits; null when no number starts the string. */
export function scanInt(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m?.[1] === undefined ? null : Number(m[1]) | 0;
}

/** uci_add_section: a new anonymous section of `type` at the end; returns it. */
export function addSection(p: UciPackage, type: string, rec: DeltaSink): UciSection {
  const s = appendSection(p, type, null);
  rec?.push({ cmd: 'add', section: s.name, option: null, value: type });
  return s;
}

/** uci_set: set an option's value, create a named section, or change a section's type. Empty value deletes. */
export function setValue(p: UciPackage, ptr: UciPtr, rec: DeltaSink, op = 'set', deleteRec: DeltaSink = rec): void {
  const value = ptr.value;
  if (value === undefined) throw new UciError('INVAL', op, target(p, ptr));
  if (!ptr.s && !(ptr.option === undefined && ptr.section !== undefined)) throw new UciError('INVAL', op, target(p, ptr));
  if (ptr.option === undefined && value !== '' && !validateType(value)) throw new UciError('INVAL', op, target(p, ptr));
  if (!ptr.o && ptr.s && ptr.option !== undefined) ptr.o = findOption(ptr.s, ptr.option);
  if (value === '') {
    // Setting something missing to nothing is not an error; setting something present to nothing deletes it.
    if (!ptr.complete) return;
    // libuci calls uci_delete as a public function here, which resets its "internal" flag: even while
    // replaying a delta file, the deletion is recorded (and saved with the next change). `deleteRec` says where.
    deleteEntry(p, ptr, deleteRec, op);
    return;
  }
  if (!ptr.o && ptr.option !== undefined && ptr.s) {
    ptr.o = { name: ptr.option, value };
    ptr.s.options.push(ptr.o);
  } else if (!ptr.s && ptr.section !== undefined) {
    ptr.s = appendSection(p, value, ptr.section);
  } else if (ptr.o && ptr.option !== undefined) {
    if (typeof ptr.o.value === 'string' && ptr.o.value === value) return;
    ptr.o.value = value;
  } else if (ptr.s && ptr.section !== undefined) {
    if (ptr.s.type === value) return;
    // libuci reallocates the section when the type's length changes, giving it a real name: it stops being
    // anonymous (list.c uci_set "update section"). A same-length type is overwritten in place.
    if (ptr.s.type.length !== value.length) ptr.s.anonymous = false;
    ptr.s.type = value;
  } else {
    throw new UciError('INVAL', op, target(p, ptr));
  }
  rec?.push({ cmd: 'change', section: ptr.section ?? '', option: ptr.option ?? null, value });
}

/** uci_delete: remove a section or option, or with a numeric value, one item of a list. */
export function deleteEntry(p: UciPackage, ptr: UciPtr, rec: DeltaSink, op = 'delete'): boolean {
  if (!ptr.complete) throw new UciError('NOTFOUND', op, target(p, ptr));
  const s = ptr.s;
  if (!s) throw new UciError('INVAL', op, target(p, ptr));
  const o = ptr.o;
  if (o && Array.isArray(o.value) && ptr.value !== undefined && ptr.value !== '') {
    const index = scanInt(ptr.value);
    if (index === null) return false;
    if (index >= 0 && index < o.value.length) {
      rec?.push({ cmd: 'remove', section: s.name, option: o.name, value: ptr.value });
      o.value.splice(index, 1);
    }
    return true;
  }
  rec?.push({ cmd: 'remove', section: ptr.section ?? s.name, option: ptr.option ?? null, value: null });
  if (o) {
    s.options.splice(s.options.indexOf(o), 1);
    ptr.o = undefined;
  } else {
    p.sections.splice(p.sections.indexOf(s), 1);
    invalidateIndex(p);
    ptr.s = undefined;
  }
  return true;
}

/** uci_add_list: append to a list, turning a single value into a list first. */
export function addListItem(p: UciPackage, ptr: UciPtr, rec: DeltaSink, op = 'add_list'): void {
  const s = ptr.s;
  if (!s || ptr.value === undefined) throw new UciError('INVAL', op, target(p, ptr));
  if (ptr.option === undefined) {
    // libuci accepts `add_list pkg.section=value`: it records the delta (which no later load can apply) and
    // hangs a nameless list on the section; the nameless list is never visible, so only the delta is kept.
    rec?.push({ cmd: 'list_add', section: ptr.section ?? s.name, option: null, value: ptr.value });
    return;
  }
  if (!ptr.o) {
    ptr.o = { name: ptr.option, value: [] };
    s.options.push(ptr.o);
  } else if (typeof ptr.o.value === 'string') {
    ptr.o.value = [ptr.o.value];
  }
  (ptr.o.value as string[]).push(ptr.value);
  rec?.push({ cmd: 'list_add', section: ptr.section ?? s.name, option: ptr.option, value: ptr.value });
}

/** uci_del_list: remove every item equal to the value; a missing option or a single value is left alone. */
export function delListItem(p: UciPackage, ptr: UciPtr, rec: DeltaSink, op = 'del_list'): void {
  const s = ptr.s;
  if (!s || ptr.value === undefined) throw new UciError('INVAL', op, target(p, ptr));
  const o = ptr.o;
  if (!o || ptr.option === undefined || !Array.isArray(o.value)) return;
  rec?.push({ cmd: 'list_del', section: ptr.section ?? s.name, option: ptr.option, value: ptr.value });
  const v = ptr.value;
  o.value = o.value.filter((item) => item !== v);
}

/** uci_rename: rename a section (it stops being anonymous) or an option. The new name is not validated (libuci). */
export function renameEntry(p: UciPackage, ptr: UciPtr, rec: DeltaSink, op = 'rename'): void {
  if (!ptr.complete) throw new UciError('NOTFOUND', op, target(p, ptr));
  const s = ptr.s;
  if (!s || ptr.value === undefined) throw new UciError('INVAL', op, target(p, ptr));
  rec?.push({ cmd: 'rename', section: ptr.section ?? s.name, option: ptr.option ?? null, value: ptr.value });
  if (ptr.o) {
    ptr.o.name = ptr.value;
  } else {
    s.name = ptr.value;
    s.anonymous = false;
    invalidateIndex(p);
  }
}

/**
 * uci_reorder_section: move a section to position `pos` among the others (past the end = last; negative =
 * first). Records a delta only when the section really moved.
 */
export function reorderSection(p: UciPackage, s: UciSection, pos: number, rec: DeltaSink): void {
  const from = p.sections.indexOf(s);
  p.sections.splice(from, 1);
  const to = pos <= 0 ? 0 : Math.min(pos, p.sections.length);
  p.sections.splice(to, 0, s);
  invalidateIndex(p);
  if (to !== from) rec?.push({ cmd: 'reorder', section: s.name, option: null, value: String(pos) });
}
