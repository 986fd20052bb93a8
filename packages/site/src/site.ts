/**
 * site.ini → typed Site. Pure: text in, Site or SiteErrors out. Every problem in the file is reported, each with
 * file:line and key, because a typo in a site file must never silently build a firmware that leaks.
 */
import { decode } from 'ini';
import type { Endpoint } from './endpoints.js';
import { SiteError, SiteErrors } from './errors.js';
import { indexLines } from './lines.js';
import { type FieldSpec, type FirewallBackend, fieldList, fields, type Site } from './schema.js';

function parseDefault<T>(spec: FieldSpec<T>): T[] {
  return spec.defaultText.map((text) => {
    const parsed = spec.parse(text);
    if (!parsed.ok) throw new Error(`site schema default ${spec.section}.${spec.key} is invalid: ${parsed.reason}`);
    return parsed.value;
  });
}

function single<T>(spec: FieldSpec<T>): T {
  const [value] = parseDefault(spec);
  if (value === undefined) throw new Error(`site schema ${spec.section}.${spec.key} has no default`);
  return value;
}

/** The site every key of which is at its default (Gluon's values). */
export function defaultSite(): Site {
  return {
    wan: { mark: single(fields.wanMark), mask: single(fields.wanMask), table: single(fields.wanTable) },
    meshVpn: { group: single(fields.vpnGroup), gid: single(fields.vpnGid) },
    wanDns: {
      listen: parseDefault(fields.dnsListen),
      cacheSize: single(fields.dnsCacheSize),
      servers: parseDefault(fields.dnsServers),
    },
    firewall: { backend: single(fields.firewallBackend) },
  };
}

type RawValue = string | string[] | boolean | undefined;

function asStrings(raw: RawValue): string[] {
  if (raw === undefined) return [];
  if (Array.isArray(raw)) return raw;
  // ini turns a bare `key =` or `key = true` into a boolean; keep the text so the parser can name it.
  return [String(raw)];
}

/** Parses site.ini text; `file` is only used in error messages. Throws SiteErrors listing every problem. */
export function parseSite(text: string, file = 'site.ini'): Site {
  let index: ReturnType<typeof indexLines>;
  try {
    index = indexLines(text, file);
  } catch (err: unknown) {
    if (err instanceof SiteError) throw new SiteErrors([err]);
    throw err;
  }
  const errors: SiteError[] = [];
  const known = new Map(fieldList.map((spec) => [`${spec.section}.${spec.key}`, spec]));
  const knownSections = new Set(fieldList.map((spec) => spec.section));
  for (const [section, line] of index.sections) {
    if (!knownSections.has(section)) {
      errors.push(new SiteError(file, line, section, `unknown section [${section}]; known: ${[...knownSections].join(', ')}`));
    }
  }
  for (const location of index.keys) {
    if (!knownSections.has(location.section)) continue;
    const spec = known.get(`${location.section}.${location.key}`);
    if (!spec) {
      const keys = fieldList.filter((s) => s.section === location.section).map((s) => s.key);
      errors.push(
        new SiteError(
          file,
          location.line,
          `${location.section}.${location.key}`,
          `unknown key; [${location.section}] takes ${keys.join(', ')}`,
        ),
      );
    } else if (location.isList && !spec.list) {
      errors.push(
        new SiteError(
          file,
          location.line,
          `${spec.section}.${spec.key}`,
          `takes one value: write "${spec.key} = value", not "${spec.key}[]"`,
        ),
      );
    }
  }
  const decoded = decode(text) as Record<string, Record<string, RawValue> | undefined>;

  function read<T>(spec: FieldSpec<T>): T[] | undefined {
    const raw = decoded[spec.section]?.[spec.key];
    if (raw === undefined) return undefined;
    const values: T[] = [];
    for (const item of asStrings(raw)) {
      const parsed = spec.parse(item);
      if (parsed.ok) values.push(parsed.value);
      else errors.push(new SiteError(file, index.lineOf(spec.section, spec.key), `${spec.section}.${spec.key}`, parsed.reason));
    }
    return values;
  }
  function one<T>(spec: FieldSpec<T>, fallback: T): T {
    return read(spec)?.[0] ?? fallback;
  }

  const defaults = defaultSite();
  const mark = one(fields.wanMark, defaults.wan.mark);
  const mask = one(fields.wanMask, defaults.wan.mask);
  if ((mark & ~mask) >>> 0 !== 0) {
    errors.push(
      new SiteError(
        file,
        index.lineOf('wan', 'mark'),
        'wan.mark',
        `mark 0x${mark.toString(16)} has bits outside mask 0x${mask.toString(16)}`,
      ),
    );
  }
  const listen: readonly Endpoint[] = read(fields.dnsListen) ?? defaults.wanDns.listen;
  const site: Site = {
    wan: { mark, mask, table: one(fields.wanTable, defaults.wan.table) },
    meshVpn: { group: one(fields.vpnGroup, defaults.meshVpn.group), gid: one(fields.vpnGid, defaults.meshVpn.gid) },
    wanDns: {
      listen,
      cacheSize: one(fields.dnsCacheSize, defaults.wanDns.cacheSize),
      servers: read(fields.dnsServers) ?? defaults.wanDns.servers,
    },
    firewall: { backend: one<FirewallBackend>(fields.firewallBackend, defaults.firewall.backend) },
  };
  if (errors.length > 0) throw new SiteErrors(errors.sort((a, b) => a.line - b.line));
  return site;
}
