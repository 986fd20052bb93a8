/** node:path's posix join without Node: the parts joined by `/`, then `.`, `..` and repeated slashes resolved. */
export function joinPath(...parts: readonly string[]): string {
  const joined = parts.filter((p) => p !== '').join('/');
  if (joined === '') return '.';
  const absolute = joined.startsWith('/');
  const out: string[] = [];
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (seg !== '..' || !absolute) out.push(seg);
  }
  const body = out.join('/');
  const trailing = joined.endsWith('/') && body !== '' ? '/' : '';
  return absolute ? `/${body}${trailing}` : body === '' ? '.' : `${body}${trailing}`;
}
