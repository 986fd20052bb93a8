/**
 * The routing half of `meshwan check`: enumerates packets (unmarked and marked, every source the node could
 * pick, locally generated and forwarded) and asks @meshwan/netlink's RouteCache where the kernel would send them
 * (lookup, and lookupOutput for IPv6's retry with a picked source), then reports every path that breaks the split.
 * Pure: the I/O half (forwarder sockets, firewall) lives in check.ts.
 */
import type { LookupResult } from '@meshwan/netlink';
import type { IpFamily } from '@meshwan/os';
import { bitsOf, formatAddress, isLinkLocal6, isLinkLocalText, maskOf } from './ip.js';
import { fromNetlinkRoute } from './kernel.js';
import { formatRoute, formatRule, isForwardingType, type Route, RT_TABLE_LOCAL, RT_TABLE_MAIN } from './model.js';
import type { KernelState, SplitParams } from './state.js';
import { managedUplink, type UplinksReport, type UplinksView } from './uplinks.js';

export type FindingCode =
  | 'unmarked-reaches-wan-table'
  | 'marked-reaches-main'
  | 'marked-not-routed'
  | 'unreachable-route-missing'
  | 'wan-route-in-main'
  | 'redirect-missing'
  | 'forwarder-not-listening'
  | 'forwarder-socket-unmarked'
  | 'config-error'
  | 'wan-default-outlives-uplinks'
  | 'uplinks-not-running'
  | 'uplinks-config-error';

export interface Finding {
  readonly code: FindingCode;
  /** What is wrong, with the packet, rule and route that prove it. */
  readonly what: string;
  /** How to fix it. */
  readonly fix: string;
}

export interface RoutingContext {
  readonly split: SplitParams;
  /** IPv6 always; IPv4 when an interface has ip4table. */
  readonly families: readonly IpFamily[];
  /** The WAN tables (T and every ip6table/ip4table). */
  readonly wanTables: ReadonlySet<number>;
  /** The WAN devices (interfaces with a policy table). */
  readonly wanDevices: readonly string[];
}

/**
 * Destinations worth trying: one inside every route and rule prefix, plus one covered only by defaults. When the
 * WAN tables have a default route, a destination under a main-only route behaves like the default probe (every
 * marked lookup ends in the WAN table, and the rules do not look at main's routes), so main is not probed then:
 * that keeps the walk small on a node with thousands of mesh routes.
 */
function probeDestinations(state: KernelState, family: IpFamily, wanTables: ReadonlySet<number> = new Set()): string[] {
  const probes = new Set<bigint>();
  const bits = BigInt(bitsOf(family));
  const wanDefault = state.routes.some((r) => r.family === family && wanTables.has(r.table) && r.dst.len === 0);
  for (const r of state.routes) {
    if (r.family !== family || r.table === RT_TABLE_LOCAL || r.dst.len === 0) continue;
    if (wanDefault && !wanTables.has(r.table)) continue;
    probes.add((r.dst.addr & maskOf(family, r.dst.len)) | (r.dst.len < bitsOf(family) ? 1n : 0n));
  }
  const ruleProbes = state.rules.filter((r) => r.family === family && r.dst !== undefined && r.dstLength > 0).map((r) => r.dst ?? '');
  // An address under no specific route: 2001:db8:ffff:…:fffe or 203.0.113.254 moved down until free.
  let far = family === 6 ? (0x20010db8n << (bits - 32n)) | ((1n << (bits - 32n)) - 2n) : 0xcb0071fen;
  const covered = (a: bigint) =>
    state.routes.some(
      (r) =>
        r.family === family &&
        r.table !== RT_TABLE_LOCAL &&
        r.dst.len > 0 &&
        (a & maskOf(family, r.dst.len)) === (r.dst.addr & maskOf(family, r.dst.len)),
    );
  for (let i = 0; i < 64 && covered(far); i++) far -= 1n << BigInt(i * 2);
  probes.add(far);
  return [...new Set([...[...probes].map((a) => formatAddress(family, a)), ...ruleProbes])];
}

/** A packet `check` asks about. */
interface Packet {
  readonly family: IpFamily;
  readonly dst: string;
  readonly mark: number;
  /** `lo` for a locally generated packet, else the device it was forwarded from. */
  readonly iif: string;
}

/** One answer: the source the lookup used (none, the forwarded packet's, or the one the kernel picked). */
interface Path {
  readonly src?: string;
  readonly result: LookupResult;
}

function describe(state: KernelState, p: Packet, path: Path): string {
  const from = path.src === undefined ? 'no source' : `from ${path.src}`;
  const { rule, route } = path.result;
  const shown = route && fromNetlinkRoute(route, new Map(state.links.map((l) => [l.ifindex, l.name])));
  const how = rule && shown ? `via rule "${formatRule(rule)}" and route "${formatRoute(shown)}"` : '';
  return `${p.mark === 0 ? 'unmarked' : `mark 0x${p.mark.toString(16)}`} IPv${p.family} packet ${from} to ${p.dst} (iif ${p.iif}) ${how}`;
}

/** The table a path was routed by; undefined when it was rejected. */
function routedBy(path: Path): number | undefined {
  return path.result.verdict === 'route' ? path.result.table : undefined;
}

/** Every routing finding for the state. */
export function routingFindings(state: KernelState, ctx: RoutingContext): Finding[] {
  const findings = new Map<string, Finding>();
  const add = (key: string, f: Finding) => {
    if (!findings.has(key)) findings.set(key, f);
  };
  const { split } = ctx;
  const { cache } = state;
  const key = ({ result: { rule, table, route } }: Path) =>
    `${rule ? formatRule(rule) : ''}|${table}|${route?.dst}/${route?.dstLength}|${route?.oif}|${route?.gateway}`;
  for (const family of ctx.families) {
    const sources = state.addresses
      .filter((a) => a.family === family && !(family === 6 && isLinkLocalText(a.address)))
      .map((a) => a.address);
    const inputs = ['lo', ...state.links.filter((l) => l.up && l.name !== 'lo' && !ctx.wanDevices.includes(l.name)).map((l) => l.name)];
    // A forwarded packet's own source: one of no local prefix (ULA fd00::beef, 198.51.100.119).
    const neutral = family === 6 ? 'fd00::beef' : '198.51.100.119';
    for (const dst of probeDestinations(state, family, ctx.wanTables)) {
      for (const iif of inputs) {
        // Forwarded packets carry their own source; try every one of ours as the worst case too.
        const base: Packet = { family, dst, mark: 0, iif };
        const paths: Path[] =
          iif === 'lo'
            ? cache.lookupOutput(dst, { mark: 0 }, sources)
            : [neutral, ...sources].map((src) => ({ src, result: cache.lookup(dst, { mark: 0, iif, src }) }));
        for (const path of paths) {
          const table = routedBy(path);
          if (table !== undefined && ctx.wanTables.has(table) && table !== RT_TABLE_MAIN) {
            add(`u|${key(path)}`, {
              code: 'unmarked-reaches-wan-table',
              what: `${describe(state, base, path)} reaches the WAN table (gluon #520)`,
              fix: `run \`meshwan apply\`: the gate rules (pref 9000-9002, \`not fwmark 0x${split.mark.toString(16)}/0x${split.mask.toString(16)}\`) must come before rule ${path.result.rule?.priority}`,
            });
          }
        }
      }
      const marked: Packet = { family, dst, mark: split.mark, iif: 'lo' };
      for (const path of cache.lookupOutput(dst, { mark: split.mark }, sources)) {
        const table = routedBy(path);
        if (table !== undefined && !ctx.wanTables.has(table) && table !== RT_TABLE_LOCAL) {
          add(`m|${key(path)}`, {
            code: 'marked-reaches-main',
            what: `${describe(state, marked, path)} does not use the WAN table`,
            fix: `run \`meshwan apply\`: rule \`fwmark 0x${split.mark.toString(16)}/0x${split.mask.toString(16)} lookup ${split.table}\` and the unreachable default in table ${split.table} must exist`,
          });
        }
      }
    }
    const unreachable = state.routes.some(
      (r: Route) =>
        r.family === family && r.table === split.table && r.dst.len === 0 && ['unreachable', 'prohibit', 'blackhole'].includes(r.type),
    );
    if (!unreachable) {
      add(`ur|${family}`, {
        code: 'unreachable-route-missing',
        what: `table ${split.table} has no unreachable IPv${family} default: with the WAN down, marked packets are not failed by table ${split.table}`,
        fix: `run \`meshwan apply\` (network.wan6_unreachable: \`unreachable ${family === 6 ? '::/0' : '0.0.0.0/0'} table ${split.table} metric 65535\`)`,
      });
    }
    const fwmarkRule = state.rules.some(
      (r) =>
        r.family === family &&
        !r.invert &&
        r.fwmark === split.mark &&
        (r.fwmask ?? 0xffffffff) === split.mask &&
        r.action === 'lookup' &&
        r.table === split.table,
    );
    if (!fwmarkRule) {
      add(`fr|${family}`, {
        code: 'marked-not-routed',
        what: `no IPv${family} rule \`fwmark 0x${split.mark.toString(16)}/0x${split.mask.toString(16)} lookup ${split.table}\`: marked packets (the VPN, WAN DNS) cannot use the WAN`,
        fix: `check network.wan6_lookup in /etc/config/network (meshwan-reconfigure writes it), then run \`meshwan apply\``,
      });
    }
    for (const r of state.routes) {
      const devs = r.nexthops ? r.nexthops.map((h) => h.dev) : [r.dev];
      if (r.family !== family || r.table !== RT_TABLE_MAIN || !devs.some((d) => d !== undefined && ctx.wanDevices.includes(d))) continue;
      // The WAN's link-local prefix belongs in main, as netifd leaves it (desired.ts wanRouteTarget).
      if (r.family === 6 && r.dst.len > 0 && isLinkLocal6(r.dst.addr)) continue;
      add(`wm|${formatRoute(r)}`, {
        code: 'wan-route-in-main',
        what: `WAN route in main: ${formatRoute(r)}`,
        fix: `run \`meshwan apply\` (or keep \`meshwan daemon\` running): WAN routes belong in table ${split.table}`,
      });
    }
  }
  return [...findings.values()];
}

/**
 * With @meshwan/uplinks configured: its daemon must be running (else the WAN table has no default at all), and
 * no other default of a device it manages may sit in the WAN tables (it would outlive the daemon's choice, so the
 * table would not fail closed with every uplink down). Its own objects (proto 78) are legitimate.
 */
export function uplinksFindings(
  state: KernelState,
  view: UplinksView,
  report: UplinksReport | undefined,
  wanTables: ReadonlySet<number>,
): Finding[] {
  const findings: Finding[] = [];
  if (view.error !== undefined) {
    findings.push({
      code: 'uplinks-config-error',
      what: `${view.error}: meshwan-uplinks refuses this config, so nothing chooses between the uplinks`,
      fix: 'fix /etc/config/meshwan-uplinks (meshwan-uplinks once shows the error), then /etc/init.d/meshwan-uplinks restart',
    });
  }
  if (!view.configured) return findings;
  if (report !== undefined && (report.state === 'not-running' || report.state === 'stale')) {
    findings.push({
      code: 'uplinks-not-running',
      what: `meshwan-uplinks is configured but its daemon is ${report.summary}: the WAN table gets no default from it`,
      fix: '/etc/init.d/meshwan-uplinks restart (logread -e meshwan-uplinks for why it stopped)',
    });
  }
  for (const r of state.routes) {
    if (!wanTables.has(r.table) || r.dst.len !== 0 || r.protocol === view.protocol || !isForwardingType(r.type)) continue;
    const devs = r.nexthops ? r.nexthops.map((h) => h.dev) : [r.dev];
    if (!devs.some((d) => managedUplink(view, d, r.family) !== undefined)) continue;
    findings.push({
      code: 'wan-default-outlives-uplinks',
      what: `${formatRoute(r)} is not meshwan-uplinks' (proto ${view.protocol}): it keeps routing when every uplink is down, so table ${r.table} does not fail closed`,
      fix: "run `meshwan apply` (or keep `meshwan daemon` running): it parks such defaults in the uplink's probe table",
    });
  }
  return findings;
}
