/**
 * Addresses like `network.lan.proto=static`, parsed and resolved as libuci's uci_parse_ptr (util.c) and
 * uci_lookup_ptr/uci_lookup_ext_section (list.c) do, including `@type[N]` and `@type[-N]`.
 */
import { UciError } from './errors.js';
import { findOption, findSection, type UciOption, type UciPackage, type UciSection } from './model.js';
import { validateName, validatePackage, validateText, validateType } from './validate.js';

/** A parsed address; `s`/`o` and `complete` are filled by lookupPtr. */
export interface UciPtr {
  package: string;
  section?: string | undefined;
  option?: string | undefined;
  value?: string | undefined;
  /** The section part is not a plain name (libuci UCI_LOOKUP_EXTENDED), e.g. `@interface[0]`. */
  extended: boolean;
  s?: UciSection | undefined;
  o?: UciOption | undefined;
  /** Everything named was found (libuci UCI_LOOKUP_COMPLETE). */
  complete: boolean;
}

/** uci_parse_ptr: split `pkg[.section[.option]][=value]`; throws PARSE like libuci. */
export function parsePtr(str: string, op = 'parse'): UciPtr {
  let rest = str;
  let value: string | undefined;
  const eq = rest.indexOf('=');
  if (eq >= 0) {
    value = rest.slice(eq + 1);
    rest = rest.slice(0, eq);
  }
  const parts = rest.split('.');
  if (parts.length > 3) throw new UciError('PARSE', op, str);
  const [pkg = '', section, option] = parts;
  const ptr: UciPtr = { package: pkg, section, option, value, extended: false, complete: false };
  if (!validatePackage(pkg)) throw new UciError('PARSE', op, str);
  if (section !== undefined && !validateName(section)) ptr.extended = true;
  if (option !== undefined && !validateName(option)) throw new UciError('PARSE', op, str);
  if (value !== undefined && !validateText(value)) throw new UciError('PARSE', op, str);
  return ptr;
}

/** C strtol(…, 10) over the whole string: optional blanks and sign, then digits; null if junk follows. */
function strtolWhole(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)(.*)$/s.exec(s);
  if (!m) return null;
  const [, sign = '', digits = '', tail = ''] = m;
  if (digits === '') return s === '' ? 0 : null;
  if (tail !== '') return null;
  const n = Number(digits);
  return sign === '-' ? -n : n;
}

/** uci_lookup_ext_section: `@type[idx]` (type may be empty for "any type"); throws INVAL on bad syntax. */
function lookupExtSection(p: UciPackage, ref: string, op: string): UciSection | undefined {
  const bad = (): never => {
    throw new UciError('INVAL', op, `${p.name}.${ref}`);
  };
  if (ref[0] !== '@') bad();
  const open = ref.indexOf('[', 1);
  if (open < 0) bad();
  const close = ref.indexOf(']', open + 1);
  if (close < 0 || close !== ref.length - 1) bad();
  let idx = strtolWhole(ref.slice(open + 1, close));
  if (idx === null) return bad();
  const type = ref.slice(1, open);
  if (type !== '' && !validateType(type)) bad();
  const matches = (s: UciSection) => type === '' || s.type === type;
  if (idx < 0) {
    let c = 0;
    for (const s of p.sections) if (matches(s)) c++;
    idx += c;
  }
  let c = 0;
  for (const s of p.sections) {
    if (!matches(s)) continue;
    if (idx === c) return s;
    c++;
  }
  return undefined;
}

/** uci_lookup_ptr on a loaded package: resolves section (plain or extended) and option. */
export function lookupPtr(p: UciPackage, ptr: UciPtr, op: string, extended = true): UciPtr {
  ptr.s = undefined;
  ptr.o = undefined;
  ptr.complete = false;
  if (ptr.section === undefined) {
    ptr.complete = true;
    return ptr;
  }
  let s: UciSection | undefined;
  if (ptr.extended) {
    if (!extended) throw new UciError('INVAL', op, ptr.section);
    s = lookupExtSection(p, ptr.section, op);
    if (s) ptr.section = s.name;
  } else {
    s = findSection(p, ptr.section);
  }
  if (!s) return ptr;
  ptr.s = s;
  if (ptr.option !== undefined) {
    const o = findOption(s, ptr.option);
    if (!o) return ptr;
    ptr.o = o;
  }
  ptr.complete = true;
  return ptr;
}
