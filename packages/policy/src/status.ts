/** `meshwan status`: one screen (or one JSON object) of the split's state. Pure rendering over gathered data. */
import { files } from '@meshwan/os';
import { renderStatus as renderUplinks } from '@meshwan/uplinks/view';
import type { Context } from './config.js';
import { formatAddress, parseAddress } from './ip.js';
import { formatRoute, formatRule, RT_TABLE_MAIN } from './model.js';
import { joinPath as join } from './path.js';
import type { Repair } from './repairs.js';
import { listensOn, type ProcSocket } from './sockets.js';
import type { KernelState } from './state.js';
import type { UplinksReport } from './uplinks.js';
import { wanDevices } from './wan-devices.js';

export interface Status {
  readonly wan: { device: string; family: string; up: boolean; addresses: string[] }[];
  readonly mesh: { defaultRoutes: string[] };
  readonly rules: string[];
  readonly table: { id: number; routes: string[] };
  readonly forwarder: { listening: string[]; notListening: string[]; upstreams: string[] };
  readonly redirect: { inSync: boolean | null; drift: string[] };
  readonly repairs: readonly Repair[];
  /** the uplinks daemon's view: each uplink's health and probes, the chosen default and why */
  readonly uplinks: UplinksReport;
}

/** The resolv file the hotplug hook writes (files/lib/gluon/wan-dnsmasq/update). */
export function readUpstreams(root: string): string[] {
  try {
    const text = files.readText(join(root, 'var/gluon/wan-dnsmasq/resolv.conf'));
    return text
      .split('\n')
      .map((l) => /^nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((s): s is string => s !== undefined);
  } catch {
    return [];
  }
}

export function buildStatus(
  ctx: Context,
  kernel: Omit<KernelState, 'cache'>,
  sockets: readonly ProcSocket[],
  redirect: { inSync: boolean | null; drift: string[] },
  repairs: readonly Repair[],
  uplinks: UplinksReport,
): Status {
  const families = new Set(wanDevices(ctx.network).map((d) => d.family));
  const wan = wanDevices(ctx.network).map(({ dev, family }) => ({
    device: dev,
    // uci's word for it (network's ip4table/ip6table, `ipv6`): the status text and JSON say it as they always have
    family: `ipv${family}`,
    up: kernel.links.some((l) => l.name === dev && l.up),
    addresses: kernel.addresses.filter((a) => a.dev === dev && a.family === family).map((a) => `${a.address}/${a.len}`),
  }));
  const wanDevs = new Set(wan.map((w) => w.device));
  const defaultRoutes = kernel.routes
    .filter((r) => r.table === RT_TABLE_MAIN && r.dst.len === 0 && !wanDevs.has(r.dev ?? ''))
    .map(formatRoute);
  const rules = kernel.rules.filter((r) => families.has(r.family) || r.family === 6).map((r) => `IPv${r.family} ${formatRule(r)}`);
  const listening: string[] = [];
  const notListening: string[] = [];
  for (const ep of ctx.settings.wanDns.listen) {
    const addr = parseAddress(ep.address)?.addr ?? 0n;
    const where = ep.family === 6 ? `[${formatAddress(6, addr)}]:${ep.port}` : `${ep.address}:${ep.port}`;
    for (const protocol of ['udp', 'tcp'] as const) {
      (listensOn(sockets, protocol, ep.family, addr, ep.port) ? listening : notListening).push(`${protocol} ${where}`);
    }
  }
  return {
    wan,
    mesh: { defaultRoutes },
    rules,
    table: { id: ctx.split.table, routes: kernel.routes.filter((r) => r.table === ctx.split.table).map(formatRoute) },
    forwarder: { listening, notListening, upstreams: readUpstreams(ctx.paths.root) },
    redirect,
    repairs,
    uplinks,
  };
}

export function renderStatus(s: Status): string {
  const lines: string[] = [];
  for (const w of s.wan) lines.push(`WAN   ${w.device} (${w.family}) ${w.up ? 'up' : 'DOWN'} ${w.addresses.join(' ') || '(no address)'}`);
  if (s.wan.length === 0) lines.push('WAN   no interface with ip6table/ip4table in the network config');
  lines.push(
    `mesh  ${s.mesh.defaultRoutes.length > 0 ? s.mesh.defaultRoutes.join('; ') : 'no default route in main (unmarked traffic to the internet is unreachable)'}`,
  );
  lines.push('rules');
  for (const r of s.rules) lines.push(`  ${r}`);
  lines.push(`table ${s.table.id}`);
  for (const r of s.table.routes) lines.push(`  ${r}`);
  if (s.table.routes.length === 0) lines.push('  (empty)');
  lines.push(
    `forwarder listening: ${s.forwarder.listening.join(', ') || 'none'}${s.forwarder.notListening.length ? `; NOT listening: ${s.forwarder.notListening.join(', ')}` : ''}`,
  );
  lines.push(`forwarder upstreams: ${s.forwarder.upstreams.join(' ') || '(none from DHCP/RA)'}`);
  lines.push(
    `redirect: ${s.redirect.inSync === null ? 'not checked' : s.redirect.inSync ? 'in place' : `DRIFT: ${s.redirect.drift.join('; ')}`}`,
  );
  lines.push(`uplinks ${s.uplinks.summary}`);
  if (s.uplinks.status) {
    if (s.uplinks.state !== 'running') lines.push('  last known:');
    for (const l of renderUplinks(s.uplinks.status).trimEnd().split('\n')) lines.push(`  ${l}`);
  }
  lines.push(`last repairs: ${s.repairs.length === 0 ? 'none' : ''}`);
  for (const r of s.repairs.slice(-5)) lines.push(`  ${r.at} ${r.change}`);
  return `${lines.join('\n')}\n`;
}
