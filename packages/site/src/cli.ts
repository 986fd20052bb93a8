/**
 * meshwan-site: `check FILE` validates a site file (non-zero exit with file:line:key errors),
 * `show [FILE] [--json]` prints the effective values, `example` prints site.example.ini.
 */
import { formatEndpoint } from './endpoints.js';
import { SiteErrors } from './errors.js';
import { renderSiteExample } from './example.js';
import { loadSite } from './load.js';
import type { Site } from './schema.js';

const usage = 'usage: meshwan-site check FILE | show [FILE] [--json] | example';

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

function render(site: Site): string {
  return [
    `wan.mark=${hex(site.wan.mark)}`,
    `wan.mask=${hex(site.wan.mask)}`,
    `wan.table=${site.wan.table}`,
    `mesh_vpn.group=${site.meshVpn.group}`,
    `mesh_vpn.gid=${site.meshVpn.gid}`,
    `wan_dns.listen=${site.wanDns.listen.map(formatEndpoint).join(' ')}`,
    `wan_dns.cache_size=${site.wanDns.cacheSize}`,
    `wan_dns.server=${site.wanDns.servers.map(formatEndpoint).join(' ')}`,
    `firewall.backend=${site.firewall.backend}`,
  ].join('\n');
}

export function runSiteCli(args: readonly string[]): number {
  const [command, ...rest] = args;
  const json = rest.includes('--json');
  const files = rest.filter((a) => a !== '--json');
  const unknown = files.find((a) => a.startsWith('-'));
  if (unknown !== undefined) {
    process.stderr.write(`meshwan-site: unknown option ${unknown}\n${usage}\n`);
    return 2;
  }
  try {
    switch (command) {
      case 'check': {
        if (files.length !== 1 || files[0] === undefined) break;
        loadSite(files[0]);
        process.stdout.write(`${files[0]}: ok\n`);
        return 0;
      }
      case 'show': {
        if (files.length > 1) break;
        const site = loadSite(files[0]);
        process.stdout.write(`${json ? JSON.stringify(site, null, 2) : render(site)}\n`);
        return 0;
      }
      case 'example':
        if (files.length > 0) break;
        process.stdout.write(renderSiteExample());
        return 0;
    }
  } catch (err: unknown) {
    if (err instanceof SiteErrors) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  process.stderr.write(`${usage}\n`);
  return 2;
}
