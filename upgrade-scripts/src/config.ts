/**
 * A pure view of one uci package and the edits that bring it to a desired end state. The scripts plan with these
 * (no fs, no uci), and uci-shell.ts replays the edits through @meshwan/uci. An edit list is empty exactly when the
 * config is already in its end state, which is what makes a second run change no byte (nothing staged, nothing
 * committed).
 */

/** An option's value: a string (`option`) or a list (`list`). */
export type Value = string | readonly string[];

export interface SectionView {
  readonly name: string;
  readonly type: string;
  /** libuci's generated `cfgXXXXXX` name, not one written in the file. */
  readonly anonymous: boolean;
  /** Options in file order. */
  readonly options: Readonly<Record<string, Value>>;
}

/** One staged change, in libuci's own operations (uci set / add / delete). */
export type Edit =
  /** `uci set pkg.name=type`: create the named section, or change its type. */
  | { readonly op: 'section'; readonly name: string; readonly type: string }
  /** `uci add pkg type` followed by sets: a new anonymous section. */
  | { readonly op: 'add'; readonly type: string; readonly options: Readonly<Record<string, Value>> }
  /** `uci set pkg.section.option=value`; a list value replaces the whole list. */
  | { readonly op: 'set'; readonly section: string; readonly option: string; readonly value: Value }
  /** `uci delete pkg.section[.option]`. */
  | { readonly op: 'delete'; readonly section: string; readonly option?: string };

export function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function findSection(sections: readonly SectionView[], name: string): SectionView | undefined {
  return sections.find((s) => s.name === name);
}

/**
 * A section meshwan owns: after the edits it has exactly `type` and `desired`, in that order, and nothing else.
 * A section of the same name but another type is deleted and written again, so no foreign option survives.
 */
export function ownSection(sections: readonly SectionView[], name: string, type: string, desired: Readonly<Record<string, Value>>): Edit[] {
  const current = findSection(sections, name);
  const edits: Edit[] = [];
  let options: Readonly<Record<string, Value>> = {};
  if (current === undefined || current.type !== type) {
    if (current !== undefined) edits.push({ op: 'delete', section: name });
    edits.push({ op: 'section', name, type });
  } else {
    options = current.options;
    for (const option of Object.keys(options)) {
      if (!(option in desired)) edits.push({ op: 'delete', section: name, option });
    }
  }
  for (const [option, value] of Object.entries(desired)) {
    if (!sameValue(options[option], value)) edits.push({ op: 'set', section: name, option, value });
  }
  return edits;
}

/**
 * A section the user shares with meshwan: `forced` options always get meshwan's value (the split depends on
 * them), `seeded` ones only when the user has not set them, and every other option the user wrote stays.
 */
export function shareSection(
  sections: readonly SectionView[],
  name: string,
  type: string,
  forced: Readonly<Record<string, Value>>,
  seeded: Readonly<Record<string, Value>>,
): Edit[] {
  const current = findSection(sections, name);
  const edits: Edit[] = [];
  let options: Readonly<Record<string, Value>> = {};
  if (current === undefined || current.type !== type) {
    // `uci set network.wan=interface` on a section of another type changes only its type and keeps its options.
    edits.push({ op: 'section', name, type });
  }
  if (current !== undefined) options = current.options;
  for (const [option, value] of Object.entries(seeded)) {
    if (options[option] === undefined) edits.push({ op: 'set', section: name, option, value });
  }
  for (const [option, value] of Object.entries(forced)) {
    if (!sameValue(options[option], value)) edits.push({ op: 'set', section: name, option, value });
  }
  return edits;
}

/**
 * Replays edits on a view: the model the planners' tests check against, and what uci-shell.ts does through
 * @meshwan/uci. Anonymous sections added here are named `@type[N]`-style placeholders (`new:type:N`).
 */
export function applyEdits(sections: readonly SectionView[], edits: readonly Edit[]): SectionView[] {
  let out = sections.map((s) => ({ ...s, options: { ...s.options } }));
  let added = 0;
  for (const edit of edits) {
    switch (edit.op) {
      case 'section': {
        const found = out.find((s) => s.name === edit.name);
        if (found) found.type = edit.type;
        else out.push({ name: edit.name, type: edit.type, anonymous: false, options: {} });
        break;
      }
      case 'add':
        out.push({ name: `new:${edit.type}:${added++}`, type: edit.type, anonymous: true, options: { ...edit.options } });
        break;
      case 'set': {
        const found = out.find((s) => s.name === edit.section);
        if (found) found.options[edit.option] = edit.value;
        break;
      }
      case 'delete':
        if (edit.option === undefined) out = out.filter((s) => s.name !== edit.section);
        else {
          const found = out.find((s) => s.name === edit.section);
          if (found) delete found.options[edit.option];
        }
        break;
    }
  }
  return out;
}
