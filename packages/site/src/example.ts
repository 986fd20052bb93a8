/** Renders site.example.ini from the schema, so the shipped example always matches what the parser accepts. */
import { fieldList } from './schema.js';

export function renderSiteExample(): string {
  const out: string[] = [
    '; meshwan site file: the defaults a community bakes into its firmware (make install SITE=site.ini).',
    "; Every key is optional; the values shown are the defaults, which are Gluon's.",
    '; Numbers take decimal, hex (0x1) or octal (01). Lists: one "key[] = value" line per entry.',
    '; Unknown keys, bad types and out-of-range values are errors naming file:line and key.',
  ];
  let section = '';
  for (const spec of fieldList) {
    if (spec.section !== section) {
      section = spec.section;
      out.push('', `[${section}]`);
    }
    out.push(`; ${spec.describe}`);
    if (spec.list) {
      if (spec.defaultText.length === 0) out.push(`; ${spec.key}[] = 2001:db8::53`);
      for (const text of spec.defaultText) out.push(`${spec.key}[] = ${text}`);
    } else {
      out.push(`${spec.key} = ${spec.defaultText[0] ?? ''}`);
    }
  }
  return `${out.join('\n')}\n`;
}
