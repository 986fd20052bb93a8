/**
 * A line index for site.ini. npm `ini` decodes values but forgets where they were, and it silently accepts
 * things that would hide a typo (a repeated key keeps the last value, a bare word becomes `true`). This scanner
 * checks the syntax line by line and remembers the line of every key, so errors can say file:line.
 */
import { SiteError } from './errors.js';

interface KeyLocation {
  readonly section: string;
  readonly key: string;
  readonly line: number;
  /** True when written `key[] = value`, ini's list syntax. */
  readonly isList: boolean;
}

export interface LineIndex {
  readonly keys: readonly KeyLocation[];
  readonly sections: ReadonlyMap<string, number>;
  lineOf(section: string, key: string): number;
}

const sectionPattern = /^\[([^\]]*)\]\s*$/;
const keyPattern = /^([^=]+?)\s*=/;

export function indexLines(text: string, file: string): LineIndex {
  const keys: KeyLocation[] = [];
  const sections = new Map<string, number>();
  const seen = new Map<string, number>();
  let section = '';
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i] ?? '';
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const sectionMatch = sectionPattern.exec(line);
    if (sectionMatch) {
      section = (sectionMatch[1] ?? '').trim();
      if (section === '') throw new SiteError(file, lineNo, '', 'empty section name "[]"');
      if (sections.has(section)) {
        throw new SiteError(file, lineNo, section, `section [${section}] appears again (first at line ${sections.get(section)})`);
      }
      sections.set(section, lineNo);
      continue;
    }
    if (line.startsWith('[')) throw new SiteError(file, lineNo, '', `expected a section header like [wan], got ${JSON.stringify(line)}`);
    const keyMatch = keyPattern.exec(line);
    if (!keyMatch) throw new SiteError(file, lineNo, '', `expected "key = value", got ${JSON.stringify(line)}`);
    if (section === '') throw new SiteError(file, lineNo, '', 'key outside of any section: put it under a header like [wan]');
    let key = (keyMatch[1] ?? '').trim();
    const isList = key.endsWith('[]');
    if (isList) key = key.slice(0, -2);
    const dotted = `${section}.${key}`;
    const first = seen.get(dotted);
    if (first !== undefined && !isList) {
      throw new SiteError(file, lineNo, dotted, `set again (first at line ${first}); for a list write "${key}[] = value" on each line`);
    }
    if (first === undefined) seen.set(dotted, lineNo);
    keys.push({ section, key, line: lineNo, isList });
  }
  return {
    keys,
    sections,
    lineOf(sec: string, key: string): number {
      return seen.get(`${sec}.${key}`) ?? sections.get(sec) ?? 0;
    },
  };
}
