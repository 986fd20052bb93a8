import type { UciSectionInfo } from '@meshwan/uci';

/**
 * The shape policy needs from a parsed uci package: its sections in file order. Kept minimal so that the pure
 * core can be tested from literals; config.ts fills it from @meshwan/uci.
 */
export interface UciSectionInput {
  /** The section type: interface, device, rule, rule6, route, route6. */
  readonly type: string;
  /** The section name; anonymous sections get `@type[index]` like `uci show`. */
  readonly name: string;
  readonly options: Readonly<Record<string, string | readonly string[]>>;
}

/** uci's boolean spellings (libuci's uci_lookup... and netifd's blobmsg bool conversion accept these). */
export function uciBool(value: string | readonly string[] | undefined): boolean | undefined {
  if (typeof value !== 'string') return undefined;
  if (['1', 'yes', 'on', 'true', 'enabled'].includes(value)) return true;
  if (['0', 'no', 'off', 'false', 'disabled'].includes(value)) return false;
  return undefined;
}

export function uciString(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** uci sections (Uci.sections, staged changes applied) as policy's input; anonymous ones named `@type[n]` as `uci show` does. */
export function sectionsOf(sections: readonly UciSectionInfo[]): UciSectionInput[] {
  return sections.map((s) => ({ type: s.type, name: s.anonymous ? `@${s.type}[${s.index}]` : s.name, options: s.options }));
}
