import type { UciPackage } from '@meshwan/uci';

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

/** uci sections as policy's input; anonymous ones named `@type[n]` as `uci show` does. */
export function sectionsOf(pkg: UciPackage): UciSectionInput[] {
  const counts = new Map<string, number>();
  return pkg.sections.map((s) => {
    const n = counts.get(s.type) ?? 0;
    counts.set(s.type, n + 1);
    const options: Record<string, string | readonly string[]> = {};
    for (const o of s.options) options[o.name] = o.value;
    return { type: s.type, name: s.anonymous ? `@${s.type}[${n}]` : s.name, options };
  });
}
