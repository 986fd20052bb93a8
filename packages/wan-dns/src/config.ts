/**
 * Where the upstream servers come from, in Gluon's order (package/gluon-wan-dnsmasq update.lua): the `server`
 * list of the first `static` section of /etc/config/gluon-wan-dnsmasq when not empty, else the resolv file
 * written from the WAN's DHCP and RA (`nameserver` lines, link-local servers with `%dev`). `--server` flags
 * replace both. The uci package is read only through @meshwan/uci's openConfig (ROOT/etc/config plus the changes
 * staged in ROOT/tmp/.uci: the view netifd and procd's config_load get). Pure parsers plus one small reader.
 */
import { files, OsError } from '@meshwan/os';
import { type Endpoint, parseEndpoint } from '@meshwan/site';
import { configPaths, openConfig, sectionsIfPresent, UciParseError } from '@meshwan/uci';
import { ConfigError } from './errors.js';

/** Gluon's uci package of the static upstream servers. */
export const CONFIG_PACKAGE = 'gluon-wan-dnsmasq';
export const DEFAULT_RESOLV = '/var/gluon/wan-dnsmasq/resolv.conf';

export interface UpstreamSources {
  /** `--server` values, already parsed; when non-empty they are the whole list. */
  readonly servers: readonly Endpoint[];
  /** The node's root (`--root`, default `/`): uci's config and save dirs below it. */
  readonly root: string;
  readonly resolvFile: string;
}

/** The files whose change can change the uci servers: the package's config file and its staged changes. */
export function uciFiles(root: string): string[] {
  const { confdir, savedir } = configPaths(root);
  return [`${confdir}/${CONFIG_PACKAGE}`, `${savedir}/${CONFIG_PACKAGE}`];
}

export interface UpstreamList {
  readonly servers: readonly Endpoint[];
  /** Where they came from: 'flag', the uci file or the resolv file (for logs and --status). */
  readonly source: string;
}

/** Parses resolv.conf text: `nameserver ADDR` lines; comments (#, ;) and other keywords are ignored. */
export function parseResolv(text: string, file: string): Endpoint[] {
  const out: Endpoint[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const words = line.split(/\s+/);
    if (words[0] !== 'nameserver') continue;
    const value = words[1];
    if (value === undefined || words.length > 2)
      throw new ConfigError(file, i + 1, 'nameserver', `expected one address, got ${JSON.stringify(line)}`);
    // resolv.conf has no port syntax (resolv.conf(5)): a bare IPv6 address with colons must not be read as ADDR:PORT.
    const parsed = parseEndpoint(value.includes(':') && !value.startsWith('[') ? `[${value}]` : value, 53);
    if (!parsed.ok) throw new ConfigError(file, i + 1, 'nameserver', parsed.reason);
    out.push(parsed.value);
  }
  return out;
}

/** Parses the `server` values of the first `static` section (Gluon: uci:get_first('gluon-wan-dnsmasq', 'static', 'server')). */
export function parseStaticServers(value: string | readonly string[] | undefined, file: string): Endpoint[] {
  if (value === undefined) return [];
  const values = typeof value === 'string' ? [value] : value;
  return values.map((v) => {
    const parsed = parseEndpoint(v, 53);
    if (parsed.ok) return parsed.value;
    throw new ConfigError(file, 0, 'static.server', `${JSON.stringify(v)}: ${parsed.reason}`);
  });
}

/** The uci servers of a root, staged changes included; none when the package does not exist. */
export function readStaticServers(root: string): Endpoint[] {
  const uci = openConfig({ root });
  const file = `${uci.confdir}/${CONFIG_PACKAGE}`;
  let sections: ReturnType<typeof sectionsIfPresent>;
  try {
    sections = sectionsIfPresent(uci, CONFIG_PACKAGE, 'static');
  } catch (err: unknown) {
    if (err instanceof UciParseError) throw new ConfigError(file, err.line, '', err.reason);
    throw err;
  }
  return parseStaticServers(sections?.[0]?.options.server, file);
}

function readOptional(file: string): string | undefined {
  try {
    return files.readText(file);
  } catch (err: unknown) {
    if (err instanceof OsError && err.code === 'ENOENT') return undefined;
    throw new ConfigError(file, 0, '', `cannot read: ${err instanceof OsError ? err.code : String(err)}`);
  }
}

/** Reads the current upstream list. A missing file is no servers (the WAN may not be up yet), a bad one an error. */
export function readUpstreams(sources: UpstreamSources): UpstreamList {
  if (sources.servers.length > 0) return { servers: sources.servers, source: '--server' };
  const servers = readStaticServers(sources.root);
  if (servers.length > 0) return { servers, source: `${configPaths(sources.root).confdir}/${CONFIG_PACKAGE}` };
  const resolvText = readOptional(sources.resolvFile);
  return { servers: resolvText === undefined ? [] : parseResolv(resolvText, sources.resolvFile), source: sources.resolvFile };
}
