/**
 * `meshwan check`: the routing findings (findings.ts over a fresh dump), the firewall (is the redirect there,
 * through iptables-wrapper's status), and the forwarder (listening, every socket marked).
 */
import { driftFamily, type Firewall } from '@meshwan/iptables-wrapper';
import type { Context } from './config.js';
import { deriveDesired } from './desired.js';
import { type Finding, routingFindings, uplinksFindings } from './findings.js';
import { firewallRuleset } from './firewall.js';
import { parseAddress } from './ip.js';
import { forwarderOtherSockets, listensOn, type ProcSocket, type SsSocket } from './sockets.js';
import type { KernelState } from './state.js';
import type { UplinksReport } from './uplinks.js';
import { wanDevices } from './wan-devices.js';

export interface CheckInput {
  readonly ctx: Context;
  readonly kernel: KernelState;
  readonly procSockets: readonly ProcSocket[];
  /** Undefined when ss could not run. */
  readonly ssSockets: readonly SsSocket[] | undefined;
  /** the uplinks daemon's status, judged (undefined: not looked at) */
  readonly uplinks?: UplinksReport;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly findings: readonly Finding[];
  /** Things that could not be checked (no ss, no firewall tool). */
  readonly notes: readonly string[];
}

function forwarderFindings(input: CheckInput): { findings: Finding[]; notes: string[] } {
  const findings: Finding[] = [];
  const notes: string[] = [];
  const site = input.ctx.settings;
  for (const ep of site.wanDns.listen) {
    const addr = parseAddress(ep.address)?.addr ?? 0n;
    for (const protocol of ['udp', 'tcp'] as const) {
      if (!listensOn(input.procSockets, protocol, ep.family, addr, ep.port)) {
        const where = ep.family === 6 ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`;
        findings.push({
          code: 'forwarder-not-listening',
          what: `nothing listens on ${protocol} ${where}: the VPN group's DNS is redirected there and fails`,
          fix: 'start the forwarder: /etc/init.d/wan-dns start (logread -e wan-dns for why it stopped)',
        });
      }
    }
  }
  if (input.ssSockets === undefined) {
    notes.push("ss not available: the forwarder sockets' marks were not checked");
  } else {
    const port = site.wanDns.listen[0]?.port ?? 54;
    for (const s of forwarderOtherSockets(input.ssSockets, port)) {
      if ((s.fwmark & site.wan.mask) !== site.wan.mark) {
        findings.push({
          code: 'forwarder-socket-unmarked',
          what: `forwarder socket ${s.protocol} ${s.local}:${s.port} (pid ${s.pids.join(',')}) has fwmark 0x${s.fwmark.toString(16)}, not 0x${site.wan.mark.toString(16)}/0x${site.wan.mask.toString(16)}: its queries bypass the WAN table (gluon #3613)`,
          fix: 'restart the forwarder with CAP_NET_ADMIN (it sets SO_MARK itself) or with LD_PRELOAD=/usr/lib/libpacketmark.so',
        });
      }
    }
  }
  return { findings, notes };
}

export async function runCheck(input: CheckInput, firewall: Firewall | undefined): Promise<CheckReport> {
  const { ctx, kernel } = input;
  const desired = deriveDesired(ctx.network, ctx.split, kernel, ctx.uplinks);
  const findings: Finding[] = ctx.network.errors.map((e) => ({
    code: 'config-error' as const,
    what: `${e.message} (section skipped, as netifd does)`,
    fix: `fix ${e.section}${e.option ? `.${e.option}` : ''} in ${e.file}`,
  }));
  // The uplinks daemon's probe tables are WAN tables too: an unmarked packet must never reach one.
  const wanTables = new Set([...desired.ownedTables, ...ctx.uplinks.uplinks.map((u) => u.probeTable)]);
  findings.push(
    ...routingFindings(kernel, {
      split: ctx.split,
      families: desired.gatedFamilies,
      wanTables,
      wanDevices: wanDevices(ctx.network).map((d) => d.dev),
    }),
    ...uplinksFindings(kernel, ctx.uplinks, input.uplinks, desired.ownedTables),
  );
  const notes: string[] = [];
  if (firewall) {
    try {
      const report = await firewall.status(firewallRuleset(ctx.network, ctx.settings, ctx.uplinks));
      for (const d of report.drift) {
        if (d.kind !== 'missing-rule' && d.kind !== 'missing-jump' && d.kind !== 'missing-chain') continue;
        findings.push({
          code: 'redirect-missing',
          what: `firewall (${firewall.name}): ${d.kind} ${driftFamily(d.family)} ${d.table} ${d.chain} ${d.detail}`,
          fix: 'run `meshwan apply --firewall` (the firewall include does this after every firewall reload)',
        });
      }
    } catch (err: unknown) {
      notes.push(`firewall status failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else notes.push('no firewall backend: the redirect was not checked');
  const fwd = forwarderFindings(input);
  findings.push(...fwd.findings);
  notes.push(...fwd.notes);
  return { ok: findings.length === 0, findings, notes };
}
