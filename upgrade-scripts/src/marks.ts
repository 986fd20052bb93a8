/**
 * Marks and table numbers as uci writes them. netifd reads `mark` with strtoul(…, 0) (iprule_parse_mark), so
 * `0x01/0x01` and `1/1` are the same rule; we compare numerically and write Gluon's spelling (110-network:
 * `0x01/0x01`), so a Gluon node's config is already in its end state.
 */
import { readUnsigned } from '@meshwan/uci';

/** strtoul(text, NULL, 0) for a whole string (@meshwan/uci's readUnsigned, a u32); else undefined. */
export function parseNumber(text: string): number | undefined {
  const n = readUnsigned(text);
  return n.ok ? n.value : undefined;
}

/** `MARK[/MASK]` as netifd parses it; the mask defaults to 0xffffffff. */
export function parseMark(text: string): { mark: number; mask: number } | undefined {
  const [markText = '', maskText, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const mark = parseNumber(markText);
  const mask = maskText === undefined ? 0xffffffff : parseNumber(maskText);
  if (mark === undefined || mask === undefined) return undefined;
  return { mark, mask };
}

/** Gluon's spelling: at least two hex digits (`0x01`). */
function formatHex(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
}

export function formatMark(mark: number, mask: number): string {
  return `${formatHex(mark)}/${formatHex(mask)}`;
}
