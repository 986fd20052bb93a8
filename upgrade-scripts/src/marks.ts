/**
 * Marks and table numbers as uci writes them. netifd reads `mark` with strtoul(…, 0) (iprule_parse_mark), so
 * `0x01/0x01` and `1/1` are the same rule; we compare numerically and write Gluon's spelling (110-network:
 * `0x01/0x01`), so a Gluon node's config is already in its end state.
 */

/** strtoul(text, NULL, 0) for a whole string: hex with 0x, octal with a leading 0, else decimal; else undefined. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim();
  let value: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) value = Number.parseInt(t.slice(2), 16);
  else if (/^0[0-7]*$/.test(t)) value = t.length > 1 ? Number.parseInt(t.slice(1), 8) : 0;
  else if (/^[1-9]\d*$/.test(t)) value = Number(t);
  else return undefined;
  return value <= 0xffffffff ? value : undefined;
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
