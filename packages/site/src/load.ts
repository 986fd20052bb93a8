/** The thin I/O shell around parseSite: finds and reads the site file a node or a build uses. */
import { files, OsError, proc } from '@meshwan/os';
import { SiteError, SiteErrors } from './errors.js';
import type { Site } from './schema.js';
import { defaultSite, parseSite } from './site.js';

/** Where `make install` bakes the community's site file into the firmware. */
export const defaultSitePath = '/lib/gluon/site.ini';

/**
 * Reads the site file at `path`; without a path, `$MESHWAN_SITE` or /lib/gluon/site.ini, and when neither
 * exists, the defaults (Gluon's values). A file that exists but is wrong always throws: never guess.
 */
export function loadSite(path?: string): Site {
  const explicit = path ?? proc.env('MESHWAN_SITE');
  const file = explicit ?? defaultSitePath;
  let text: string;
  try {
    text = files.readText(file);
  } catch (err: unknown) {
    if (!(err instanceof OsError)) throw err;
    const code = err.code;
    if (code === 'ENOENT' && explicit === undefined) return defaultSite();
    throw new SiteErrors([new SiteError(file, 0, '', `cannot read: ${code}`)]);
  }
  return parseSite(text, file);
}
