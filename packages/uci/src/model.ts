/**
 * The in-memory config tree, shaped like libuci's uci_package/uci_section/uci_option. All strings are byte
 * strings (bytes.ts). Sections and options keep file order; lookups return the first match, as libuci's
 * uci_lookup_list does (a rename can create two sections of one name, and then the first one wins).
 */

/** An option: a single value (`option`) or a list (`list`, possibly emptied by deletions). */
export interface UciOption {
  name: string;
  value: string | string[];
}

/** A section (`config TYPE ['NAME']`). Anonymous sections carry their generated `cfgXXXXXX` name. */
export interface UciSection {
  name: string;
  type: string;
  anonymous: boolean;
  options: UciOption[];
}

/** One staged change, as in libuci's delta files (delta.c uci_command_char). */
export type DeltaCmd = 'add' | 'remove' | 'change' | 'rename' | 'reorder' | 'list_add' | 'list_del';

export interface UciDelta {
  cmd: DeltaCmd;
  section: string;
  option: string | null;
  value: string | null;
}

/** A config package: a file in /etc/config plus the changes staged for it. */
export interface UciPackage {
  name: string;
  sections: UciSection[];
  /** libuci's p->n_section: sections ever allocated, used in anonymous names (never decremented by delete). */
  nSection: number;
  /** Deltas read from the save dirs when loading (libuci saved_delta), shown by `uci changes`. */
  savedDelta: UciDelta[];
  /** First section of each name; rebuilt lazily after renames and deletions. */
  index: Map<string, UciSection> | null;
}

export function newPackage(name: string): UciPackage {
  return { name, sections: [], nSection: 0, savedDelta: [], index: new Map() };
}

/** libuci uci_lookup_list over sections: the first section with this name. */
export function findSection(p: UciPackage, name: string): UciSection | undefined {
  let index = p.index;
  if (index === null) {
    index = new Map();
    for (const s of p.sections) if (!index.has(s.name)) index.set(s.name, s);
    p.index = index;
  }
  return index.get(name);
}

export function findOption(s: UciSection, name: string): UciOption | undefined {
  for (const o of s.options) if (o.name === name) return o;
  return undefined;
}

/** Forget the name index after a change that can make it stale (rename, delete). */
export function invalidateIndex(p: UciPackage): void {
  p.index = null;
}

/** Append a section (libuci uci_alloc_section), giving anonymous ones their generated name. */
export function appendSection(p: UciPackage, type: string, name: string | null): UciSection {
  p.nSection++;
  const s: UciSection = { name: name ?? anonymousName(p.nSection, type), type, anonymous: name === null, options: [] };
  p.sections.push(s);
  if (p.index !== null && !p.index.has(s.name)) p.index.set(s.name, s);
  return s;
}

/**
 * libuci list.c uci_fixup_section: "cfg" + 2 hex digits of the section counter + 4 hex digits of a djb hash.
 * The hash covers the type and the options' names and values, but a section gets its name when it is
 * created, before any option, so only the type ever counts. The C hash adds `char` (signed on the
 * architectures OpenWrt and we run on), so bytes >= 0x80 count negative.
 */
export function anonymousName(counter: number, type: string): string {
  let hash = 5381;
  for (let i = 0; i < type.length; i++) {
    let c = type.charCodeAt(i);
    if (c >= 128) c -= 256;
    hash = (Math.imul(hash, 33) + c) >>> 0;
  }
  hash = hash & 0x7fffffff;
  return `cfg${counter.toString(16).padStart(2, '0')}${(hash & 0xffff).toString(16).padStart(4, '0')}`;
}

/** A deep copy, so a caller's edits never reach the cached tree. */
export function clonePackage(p: UciPackage): UciPackage {
  return {
    name: p.name,
    nSection: p.nSection,
    savedDelta: p.savedDelta.map((d) => ({ ...d })),
    index: null,
    sections: p.sections.map((s) => ({
      ...s,
      options: s.options.map((o) => ({ name: o.name, value: Array.isArray(o.value) ? [...o.value] : o.value })),
    })),
  };
}
