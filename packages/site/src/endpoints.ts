/**
 * Parsing of `ADDR[:PORT]` endpoints as they appear in site.ini, uci and command lines:
 * `192.0.2.1`, `192.0.2.1:5353`, `2001:db8::1`, `[2001:db8::1]:5353`, `fe80::1%wan0`, `[fe80::1%wan0]:53`.
 * Pure: returns a value or a reason string, so every caller can name its own file, line or flag.
 */
import type { IpFamily } from '@meshwan/os';
import { isIPv4, isIPv6 } from './ip.js';

export interface Endpoint {
  /** Address without brackets or scope. */
  readonly address: string;
  readonly port: number;
  readonly family: IpFamily;
  /** Interface of an IPv6 link-local address (`%wan0`), as the resolv file writes it. */
  readonly scope?: string;
}

export type EndpointResult = { ok: true; value: Endpoint } | { ok: false; reason: string };

const interfaceName = /^[A-Za-z0-9_.@-]{1,15}$/;

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function withScope(address: string, port: number, original: string): EndpointResult {
  const percent = address.indexOf('%');
  const bare = percent >= 0 ? address.slice(0, percent) : address;
  const scope = percent >= 0 ? address.slice(percent + 1) : undefined;
  if (isIPv4(bare) && scope === undefined) return { ok: true, value: { address: bare, port, family: 4 } };
  if (!isIPv6(bare)) return { ok: false, reason: `expected an IPv4 or IPv6 address, got ${JSON.stringify(original)}` };
  if (scope === undefined) return { ok: true, value: { address: bare.toLowerCase(), port, family: 6 } };
  if (!interfaceName.test(scope)) return { ok: false, reason: `bad interface name after % in ${JSON.stringify(original)}` };
  return { ok: true, value: { address: bare.toLowerCase(), port, family: 6, scope } };
}

/** Parses `ADDR[:PORT]`; `defaultPort` applies when no port is written. */
export function parseEndpoint(text: string, defaultPort: number): EndpointResult {
  const input = text.trim();
  if (input.startsWith('[')) {
    const close = input.indexOf(']');
    if (close < 0) return { ok: false, reason: `missing "]" in ${JSON.stringify(input)}` };
    const rest = input.slice(close + 1);
    let port = defaultPort;
    if (rest !== '') {
      const parsed = rest.startsWith(':') ? parsePort(rest.slice(1)) : undefined;
      if (parsed === undefined) return { ok: false, reason: `expected ":PORT" (1-65535) after "]" in ${JSON.stringify(input)}` };
      port = parsed;
    }
    const result = withScope(input.slice(1, close), port, input);
    if (result.ok && result.value.family !== 6)
      return { ok: false, reason: `brackets are for IPv6 addresses, got ${JSON.stringify(input)}` };
    return result;
  }
  const colons = input.split(':').length - 1;
  if (colons === 1) {
    const [host = '', portText = ''] = input.split(':');
    const port = parsePort(portText);
    if (port === undefined) return { ok: false, reason: `expected a port 1-65535 after ":" in ${JSON.stringify(input)}` };
    return withScope(host, port, input);
  }
  // Zero colons: IPv4 without port. Two or more: a bare IPv6 address, whose port must be written in brackets.
  return withScope(input, defaultPort, input);
}

/** Formats an endpoint as it would be written: `192.0.2.1:53`, `[2001:db8::1]:53`, `[fe80::1%wan0]:53`. */
export function formatEndpoint(endpoint: Endpoint): string {
  const host = endpoint.scope ? `${endpoint.address}%${endpoint.scope}` : endpoint.address;
  return endpoint.family === 6 ? `[${host}]:${endpoint.port}` : `${host}:${endpoint.port}`;
}
