/** The WAN devices of a network config, as the firewall rules (connmark, backstop) and the checks need them. Pure. */
import type { NetworkConfig } from './network.js';

type FwFamily = 'ipv4' | 'ipv6';

/** The WAN devices and the families whose WAN table is configured (ip6table → IPv6, ip4table → IPv4). */
export function wanDevices(network: NetworkConfig): { dev: string; family: FwFamily }[] {
  const out: { dev: string; family: FwFamily }[] = [];
  for (const iface of network.interfaces.values()) {
    if (iface.disabled || iface.device === undefined) continue;
    for (const [family, table] of [
      ['ipv6', iface.ip6table],
      ['ipv4', iface.ip4table],
    ] as const) {
      if (table !== undefined && !out.some((o) => o.dev === iface.device && o.family === family)) out.push({ dev: iface.device, family });
    }
  }
  return out;
}

/** The same, grouped by family (IPv4 first), leaving out a family with no WAN device. */
export function wanDevicesByFamily(network: NetworkConfig): [FwFamily, string[]][] {
  const devices = wanDevices(network);
  return (['ipv4', 'ipv6'] as const)
    .map((family): [FwFamily, string[]] => [family, devices.filter((d) => d.family === family).map((d) => d.dev)])
    .filter(([, devs]) => devs.length > 0);
}
