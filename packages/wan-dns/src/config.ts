/**
 * Where the upstream servers come from, in Gluon's order (package/gluon-wan-dnsmasq update.lua): the `server`
 * list of the first `static` section of /etc/config/gluon-wan-dnsmasq when not empty, else the resolv file
 * written from the WAN's DHCP and RA (`nameserver` lines, link-local servers with `%dev`). `--server` flags
 * replace both. The uci file is read only through @meshwan/uci. Pure parsers plus one small reader.
 */
import { readFileSync } from 'node:fs';
import { type Endpoint, parseEndpoint } from '@meshwan/site';
import { parseUci, UciParseError } from '@meshwan/uci';
import { ConfigError } from './errors.js';

export const DEFAULT_CONFIG = '/etc/config/gluon-wan-dnsmasq';
export const DEFAULT_RESOLV = '/var/gluon/wan-dnsmasq/resolv.conf';

export interface UpstreamSources {
  /** `--server` values, already parsed; when non-empty they are the whole list. */
  readonly servers: readonly Endpoint[];
  readonly configFile: string;
  readonly resolvFile: string;
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

/** Reads the `server` list of the first `static` section (Gluon: uci:get_first('gluon-wan-dnsmasq', 'static', 'server')). */
export function parseStaticServers(text: string, file: string): Endpoint[] {
  let pkg: ReturnType<typeof parseUci>;
  try {
    pkg = parseUci(text, { file, package: 'gluon-wan-dnsmasq' });
  } catch (err: unknown) {
    if (err instanceof UciParseError) throw new ConfigError(file, err.line, '', err.reason);
    throw err;
  }
  const section = pkg.sections.find((s) => s.type === 'static');
  const option = section?.options.find((o) => o.name === 'server');
  if (option === undefined) return [];
  const values = typeof option.value === 'string' ? [option.value] : option.value;
  const lines = text.split('\n');
  return values.map((v) => {
    const parsed = parseEndpoint(v, 53);
    if (parsed.ok) return parsed.value;
    // uci keeps no line numbers in its tree: find the value's line for the message.
    const line = lines.findIndex((l) => /^\s*(list|option)\s+server\b/.test(l) && l.includes(v)) + 1;
    throw new ConfigError(file, line, 'static.server', parsed.reason);
  });
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ConfigError(file, 0, '', `cannot read: ${code ?? String(err)}`);
  }
}

/** Reads the current upstream list. A missing file is no servers (the WAN may not be up yet), a bad one an error. */
export function readUpstreams(sources: UpstreamSources): UpstreamList {
  if (sources.servers.length > 0) return { servers: sources.servers, source: '--server' };
  const uciText = readOptional(sources.configFile);
  if (uciText !== undefined) {
    const servers = parseStaticServers(uciText, sources.configFile);
    if (servers.length > 0) return { servers, source: sources.configFile };
  }
  const resolvText = readOptional(sources.resolvFile);
  return { servers: resolvText === undefined ? [] : parseResolv(resolvText, sources.resolvFile), source: sources.resolvFile };
}
