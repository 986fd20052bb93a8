/** The WAN devices of a network config, as the firewall rules (connmark, backstop) and the checks need them. Pure. */
import type { IpFamily } from '@meshwan/os';
import type { NetworkConfig } from './network.js';

/** The WAN devices and the families whose WAN table is configured (ip6table → IPv6, ip4table → IPv4). */
export function wanDevices(network: NetworkConfig): { dev: string; family: IpFamily }[] {
  const out: { dev: string; family: IpFamily }[] = [];
  for (const iface of network.interfaces.values()) {
    if (iface.disabled || iface.device === undefined) continue;
    for (const [family, table] of [
      [6, iface.ip6table],
      [4, iface.ip4table],
    ] as const) {
      if (table !== undefined && !out.some((o) => o.dev === iface.device && o.family === family)) out.push({ dev: iface.device, family });
    }
  }
  return out;
}

/** The same, grouped by family (IPv4 first), leaving out a family with no WAN device. */
export function wanDevicesByFamily(network: NetworkConfig): [IpFamily, string[]][] {
  const devices = wanDevices(network);
  return ([4, 6] as const)
    .map((family): [IpFamily, string[]] => [family, devices.filter((d) => d.family === family).map((d) => d.dev)])
    .filter(([, devs]) => devs.length > 0);
}
