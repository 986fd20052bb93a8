/**
 * WAN DNS servers and the uplink that learned each. Two sources: an uplink's `dns_server` list in uci, and the
 * resolv file gluon-wan-dnsmasq reads (/var/gluon/wan-dnsmasq/resolv.conf). In that file a `# Interface NAME`
 * comment (the form netifd writes into resolv.conf.auto) attributes the nameservers after it to NAME; servers
 * with no interface follow the default route and need no host route.
 */
import { files, OsError } from '@meshwan/os';
import type { UplinkConfig } from './config.js';
import type { DnsAssignment } from './desired.js';

/** Parses resolv.conf text into nameservers with the interface they were listed under (pure). */
export function parseResolv(text: string): { server: string; iface: string | undefined }[] {
  const out: { server: string; iface: string | undefined }[] = [];
  let iface: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const comment = /^#\s*Interface\s+(\S+)/i.exec(line);
    if (comment) {
      iface = comment[1];
      continue;
    }
    const ns = /^nameserver\s+([0-9A-Fa-f:.]+)(?:%\S+)?\s*$/.exec(line);
    if (ns?.[1]) out.push({ server: ns[1].toLowerCase(), iface });
  }
  return out;
}

/** uci servers first (explicit), then attributed resolv servers; the first uplink to claim a server keeps it. */
export function assignDns(uplinks: readonly UplinkConfig[], resolvText: string): DnsAssignment[] {
  const out: DnsAssignment[] = [];
  const taken = new Set<string>();
  const add = (server: string, uplink: string) => {
    if (taken.has(server)) return;
    taken.add(server);
    out.push({ server, uplink });
  };
  for (const u of uplinks) for (const s of u.dnsServers) add(s.toLowerCase(), u.name);
  for (const { server, iface } of parseResolv(resolvText)) {
    const u = uplinks.find((x) => x.name === iface || x.device === iface);
    if (u) add(server, u.name);
  }
  return out;
}

/** Reads the resolv file; a missing file is empty (wan-dnsmasq has not written it yet). */
export function readResolv(path: string): string {
  try {
    return files.readText(path);
  } catch (err: unknown) {
    if (err instanceof OsError && err.code === 'ENOENT') return '';
    throw err;
  }
}
