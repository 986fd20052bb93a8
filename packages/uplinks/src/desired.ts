/**
 * What this package wants in the kernel, computed purely from config, health and the chooser's answers:
 * (1) the WAN table's default: one path, or weighted multipath (RTA_MULTIPATH) over equal-metric uplinks;
 * (2) per uplink a probe table holding only that uplink's default, and a rule sending the uplink's probe mark
 *     there (mwan3's per-interface tables), so a probe can reach its target only through that uplink;
 * (3) a host route per WAN DNS server via the uplink that learned it, or `unreachable` while that uplink is down
 *     so the forwarder gets EHOSTUNREACH at once and moves on instead of waiting out a timeout.
 * The unreachable ::/0 metric 65535 floor and the fwmark rule belong to the policy package and are never named here.
 */
import type { IpFamily } from '@meshwan/os';
import type { Choice } from './chooser.js';
import { type GlobalsConfig, probeMark, type UplinkConfig } from './config.js';
import type { HealthState } from './health.js';

interface WantedNexthop {
  readonly device: string;
  readonly gateway: string | undefined;
  readonly weight: number;
}

export interface WantedRoute {
  readonly family: IpFamily;
  readonly table: number;
  /** 'default' or an address prefix such as 2001:db8::53/128 */
  readonly dst: string;
  readonly metric: number;
  readonly type: 'unicast' | 'unreachable';
  /** empty for unreachable */
  readonly nexthops: readonly WantedNexthop[];
  /** why it exists, for status */
  readonly why: string;
}

export interface WantedRule {
  readonly family: IpFamily;
  readonly priority: number;
  readonly fwmark: number;
  readonly fwmask: number;
  readonly table: number;
}

/** What the daemon knows about an uplink at this moment. */
export interface UplinkRuntime {
  readonly config: UplinkConfig;
  readonly index: number;
  readonly state: HealthState;
  /** configured, learned from a default route on the device, or restored from the last-good file */
  readonly gateway: string | undefined;
  /** the device exists and is administratively up (a route through a down device is refused: ENETDOWN) */
  readonly deviceUp: boolean;
}

export interface DnsAssignment {
  readonly server: string;
  readonly uplink: string;
}

export interface Desired {
  readonly routes: readonly WantedRoute[];
  readonly rules: readonly WantedRule[];
}

export function probeTable(globals: GlobalsConfig, index: number): number {
  return globals.probeTableBase + index;
}

function hostPrefix(server: string): string {
  return server.includes(':') ? `${server}/128` : `${server}/32`;
}

export interface DesiredInput {
  readonly globals: GlobalsConfig;
  /** the WAN table (network.wan6_lookup's lookup unless the config names one) */
  readonly table: number;
  readonly uplinks: readonly UplinkRuntime[];
  readonly choices: readonly Choice[];
  readonly dns: readonly DnsAssignment[];
}

export function desiredState(input: DesiredInput): Desired {
  const { globals, table, uplinks, choices, dns } = input;
  const routes: WantedRoute[] = [];
  const rules: WantedRule[] = [];
  const byName = new Map(uplinks.map((u) => [u.config.name, u]));
  for (const choice of choices) {
    const nexthops = choice.members
      .filter((m) => byName.get(m.name)?.deviceUp)
      .map((m) => ({ device: m.device, gateway: m.gateway, weight: m.weight }));
    if (nexthops.length === 0) continue;
    routes.push({ family: choice.family, table, dst: 'default', metric: globals.metric, type: 'unicast', nexthops, why: choice.reason });
  }
  for (const u of uplinks) {
    if (!u.config.enabled) continue;
    const { mark, mask } = probeMark(globals, u.index);
    const t = probeTable(globals, u.index);
    rules.push({ family: u.config.family, priority: globals.probePriority, fwmark: mark, fwmask: mask, table: t });
    if (u.deviceUp) {
      routes.push({
        family: u.config.family,
        table: t,
        dst: 'default',
        metric: globals.metric,
        type: 'unicast',
        nexthops: [{ device: u.config.device, gateway: u.gateway, weight: 1 }],
        why: `probe path of ${u.config.name}`,
      });
    }
  }
  const seen = new Set<string>();
  for (const a of dns) {
    const u = byName.get(a.uplink);
    if (!u || !u.config.enabled || seen.has(a.server)) continue;
    seen.add(a.server);
    const family: IpFamily = a.server.includes(':') ? 6 : 4;
    if (family !== u.config.family) continue;
    const healthy = u.state === 'up' && u.deviceUp;
    routes.push({
      family,
      table,
      dst: hostPrefix(a.server),
      metric: globals.metric,
      type: healthy ? 'unicast' : 'unreachable',
      nexthops: healthy ? [{ device: u.config.device, gateway: u.gateway, weight: 1 }] : [],
      why: healthy ? `DNS server learned on ${u.config.name}` : `DNS server learned on ${u.config.name}, which is down: fail at once`,
    });
  }
  return { routes, rules };
}
