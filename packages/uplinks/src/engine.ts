/**
 * The engine: per-uplink health, gateways and probe results, and the one `reconcile()` that turns them into
 * kernel state. It holds no timers (daemon.ts and cli.ts drive it), so `once` and the daemon share every path.
 */
import { familyNames, type Link, type Netlink, type Route } from '@meshwan/netlink';
import type { IpFamily } from '@meshwan/os';
import { type Choice, choose } from './chooser.js';
import { probeMark, type UplinkConfig, type UplinksConfig } from './config.js';
import type { DnsAssignment } from './desired.js';
import { type DesiredInput, desiredState, type UplinkRuntime } from './desired.js';
import { assignDns, readResolv } from './dns.js';
import { type DnsProbeRequest, runDnsProbe } from './dnsprobe.js';
import { applyCarrier, applyProbe, applyRestored, type Health, initialHealth, roundOk } from './health.js';
import { type ApplyResult, applyDesired, describeRoute } from './kernel.js';
import { type LastGoodMember, readLastGood, sameMembers, writeLastGood } from './lastgood.js';
import { type ProbeRequest, type ProbeResult, runProbe } from './probe.js';
import { RoundSequencer } from './rounds.js';

export type GatewaySource = 'config' | 'route' | 'restored';

/** The family as the status file and text say it: iproute2's word (`inet`, `inet6`), as they always have. */
type FamilyWord = (typeof familyNames)[IpFamily];

export interface UplinkStatus {
  readonly name: string;
  readonly family: FamilyWord;
  readonly device: string;
  readonly enabled: boolean;
  readonly health: Health;
  readonly gateway: string | undefined;
  readonly gatewaySource: GatewaySource | undefined;
  readonly metric: number;
  readonly weight: number;
  readonly probeMark: string;
  readonly lastProbe: readonly ProbeResult[];
}

export interface RestoreReport {
  readonly uplink: string;
  readonly device: string;
  readonly gateway: string;
  readonly restored: boolean;
  readonly reason: string;
}

export interface Status {
  readonly table: number;
  readonly uplinks: readonly UplinkStatus[];
  readonly choices: readonly (Omit<Choice, 'family'> & { readonly family: FamilyWord })[];
  readonly routes: readonly string[];
  readonly restore: readonly RestoreReport[];
  readonly errors: readonly string[];
  readonly updatedAt: string;
}

export interface EngineOptions {
  readonly config: UplinksConfig;
  readonly table: number;
  readonly ping?: string;
  /** where the last-good default is kept; default config.globals.stateFile */
  readonly stateFile?: string;
  readonly log?: (line: string) => void;
  /** how probes are sent; tests inject a driver to force an order of completion */
  readonly probers?: Partial<Probers>;
}

/** The two probe methods (track_method): ping through the uplink, or a DNS query to its server through it. */
export interface Probers {
  ping(req: ProbeRequest): Promise<ProbeResult>;
  dns(req: DnsProbeRequest): Promise<ProbeResult>;
}

/** One finished probe round of an uplink, waiting for its turn (rounds are applied in the order they were sent). */
interface Round {
  readonly results: ProbeResult[];
  readonly ok: boolean;
  readonly detail: string;
}

const RT_TABLE_MAIN = 254;

export class Engine {
  private readonly health = new Map<string, Health>();
  private readonly probes = new Map<string, ProbeResult[]>();
  private readonly gateways = new Map<string, { gateway: string; source: GatewaySource }>();
  private readonly restored = new Map<string, string>();
  private readonly rounds = new Map<string, RoundSequencer<Round>>();
  private readonly probers: Probers;
  private dns: DnsAssignment[] = [];
  private links: Link[] = [];
  private choices: Choice[] = [];
  private routes: string[] = [];
  private errors: string[] = [];
  private restoreReports: RestoreReport[] = [];
  readonly stateFile: string;

  constructor(
    private readonly nl: Netlink,
    private readonly opts: EngineOptions,
  ) {
    this.stateFile = opts.stateFile ?? opts.config.globals.stateFile;
    for (const u of opts.config.uplinks) {
      this.health.set(u.name, initialHealth());
      this.rounds.set(u.name, new RoundSequencer<Round>());
    }
    this.probers = {
      ping: opts.probers?.ping ?? ((req) => runProbe(req, opts.ping)),
      dns: opts.probers?.dns ?? runDnsProbe,
    };
  }

  private get uplinks(): readonly UplinkConfig[] {
    return this.opts.config.uplinks;
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private link(u: UplinkConfig): Link | undefined {
    return this.links.find((l) => l.name === u.device);
  }

  /** Re-reads links (carrier) and learns gateways from default routes others put on each device. */
  refresh(): void {
    this.links = this.nl.listLinks();
    this.dns = assignDns(this.uplinks, readResolv(this.opts.config.globals.resolvFile));
    for (const u of this.uplinks) {
      const l = this.link(u);
      const before = this.healthOf(u);
      const after = applyCarrier(before, l?.adminUp === true && l.carrier);
      if (after !== before) {
        this.health.set(u.name, after);
        if (after.state !== before.state) this.log(`${u.name}: ${after.reason}`);
      }
    }
    // netifd's default is in main, or in the WAN table (ip6table/ip4table); with this package configured, the
    // policy package parks it in the uplink's probe table instead, where only probes can use it.
    const { probeTableBase } = this.opts.config.globals;
    const tables = new Set([RT_TABLE_MAIN, this.opts.table, ...this.uplinks.map((_, i) => probeTableBase + i)]);
    const learned = this.nl
      .listRoutes()
      .filter((r) => tables.has(r.table) && r.dstLength === 0 && r.protocol !== this.opts.config.globals.protocol && r.type === 'unicast');
    for (const u of this.uplinks) {
      if (u.gateway !== undefined) {
        this.gateways.set(u.name, { gateway: u.gateway, source: 'config' });
        continue;
      }
      const gw = learnGateway(learned, u, this.link(u)?.index);
      if (gw !== undefined) this.gateways.set(u.name, { gateway: gw, source: 'route' });
      else {
        const r = this.restored.get(u.name);
        if (r !== undefined) this.gateways.set(u.name, { gateway: r, source: 'restored' });
        else this.gateways.delete(u.name);
      }
    }
  }

  healthOf(u: UplinkConfig): Health {
    return this.health.get(u.name) ?? initialHealth();
  }

  /**
   * One probe round of one uplink; returns true when its health state changed. Rounds may overlap (the daemon
   * keeps up to two in flight) and are applied in the order they were sent, not the order they finished: a late
   * loss of an older round is applied before a newer round's answer, never after it.
   */
  async probe(u: UplinkConfig, hysteresis = true): Promise<boolean> {
    const rounds = this.rounds.get(u.name) ?? new RoundSequencer<Round>();
    this.rounds.set(u.name, rounds);
    const seq = rounds.start();
    let round: Round;
    try {
      round = await this.probeRound(u);
    } catch (err: unknown) {
      // A probe that could not start gives no verdict, but must not hold back the rounds sent after it.
      this.applyRounds(u, rounds.finish(seq, undefined), hysteresis);
      throw err;
    }
    return this.applyRounds(u, rounds.finish(seq, round), hysteresis);
  }

  /** Who a round asks: track_ip, else the gateway (ping) or the uplink's DNS servers from uci and resolv (dns). */
  probeTargets(u: UplinkConfig): string[] {
    if (u.trackIps.length > 0) return [...u.trackIps];
    if (u.trackMethod === 'dns') {
      const v6 = u.family === 6;
      return this.dns.filter((d) => d.uplink === u.name && d.server.includes(':') === v6).map((d) => d.server);
    }
    const gw = this.gateways.get(u.name)?.gateway;
    return gw !== undefined ? [gw] : [];
  }

  private async probeRound(u: UplinkConfig): Promise<Round> {
    const index = this.uplinks.indexOf(u);
    const targets = this.probeTargets(u);
    const { mark } = probeMark(this.opts.config.globals, index);
    const base = { uplink: u.name, family: u.family, mark, timeoutMs: u.timeoutMs, count: u.count };
    const deviceUp = this.link(u)?.adminUp === true;
    const results = await Promise.all(
      targets.map((target) => {
        if (u.trackMethod === 'ping') return this.probers.ping({ ...base, device: u.device, target });
        // Without its device the probe table has no route and a marked query would fall through to the next rule.
        if (!deviceUp) return Promise.resolve({ target, ok: false, rttMs: undefined, detail: `not sent: ${u.device} is down` });
        return this.probers.dns({ ...base, target, name: u.dnsName, qtype: u.dnsType });
      }),
    );
    const answered = results.filter((r) => r.ok).length;
    const ok = roundOk(answered, targets.length, u.reliability);
    const detail =
      targets.length > 0
        ? `${answered}/${targets.length} answered`
        : u.trackMethod === 'dns'
          ? `no DNS server to probe: set track_ip or dns_server, or list one under "# Interface ${u.name}" in ${this.opts.config.globals.resolvFile}`
          : 'no probe target: set track_ip or gateway';
    return { results, ok, detail };
  }

  private applyRounds(u: UplinkConfig, due: readonly Round[], hysteresis: boolean): boolean {
    const rules = hysteresis ? { up: u.up, down: u.down } : { up: 1, down: 1 };
    let changed = false;
    for (const round of due) {
      this.probes.set(u.name, round.results);
      const before = this.healthOf(u);
      const after = applyProbe(before, round.ok, rules, round.detail);
      this.health.set(u.name, after);
      if (after.state !== before.state) {
        changed = true;
        this.log(`${u.name}: ${after.reason}`);
      }
    }
    return changed;
  }

  /** Computes and applies the desired state; persists the last-good default when it changed. */
  reconcile(): ApplyResult {
    const runtime: UplinkRuntime[] = this.uplinks.map((config, index) => {
      const l = this.link(config);
      return {
        config,
        index,
        state: this.healthOf(config).state,
        gateway: this.gateways.get(config.name)?.gateway,
        deviceUp: l?.adminUp === true,
      };
    });
    const candidates = runtime.map((r) => ({ ...r.config, state: r.state, gateway: r.gateway }));
    this.choices = ([6, 4] as const).filter((f) => this.uplinks.some((u) => u.family === f)).map((f) => choose(f, candidates));
    const input: DesiredInput = {
      globals: this.opts.config.globals,
      table: this.opts.table,
      uplinks: runtime,
      choices: this.choices,
      dns: this.dns,
    };
    const desired = desiredState(input);
    const ready = this.ready();
    const result = applyDesired(this.nl, desired, this.opts.config.globals.protocol, this.links, ready ? undefined : this.opts.table);
    if (!ready) {
      // Nothing is known yet: probe paths only. The WAN table keeps its routes until every uplink has had its say.
      this.routes = desired.routes.filter((r) => r.table !== this.opts.table).map(describeRoute);
      this.errors = result.errors.map((e) => e.message);
      for (const c of result.changed) this.log(c);
      return result;
    }
    this.routes = desired.routes.map(describeRoute);
    this.errors = result.errors.map((e) => e.message);
    for (const c of result.changed) this.log(c);
    for (const e of this.errors) this.log(e);
    this.persist();
    return result;
  }

  /** Every enabled uplink has been probed, restored, or seen without carrier: its health means something. */
  ready(): boolean {
    return this.uplinks.every((u) => {
      const h = this.healthOf(u);
      return !u.enabled || h.rounds > 0 || h.state === 'up' || !h.carrier;
    });
  }

  private persist(): void {
    const members: LastGoodMember[] = [];
    for (const c of this.choices) {
      for (const m of c.members)
        if (m.gateway !== undefined) members.push({ uplink: m.name, family: c.family, device: m.device, gateway: m.gateway });
    }
    if (members.length === 0) return; // losing every uplink is not a new last-good state
    const old = readLastGoodQuiet(this.stateFile);
    if (old && sameMembers(old, members)) return;
    writeLastGood(this.stateFile, members);
  }

  /**
   * Boot: for each saved member whose uplink still has that device and carrier, install its probe path with the
   * saved gateway and ping the gateway through it. Only an answer brings the uplink up at once; a stale gateway
   * is reported and forgotten, and the uplink waits for ordinary probes.
   */
  async restore(): Promise<RestoreReport[]> {
    this.refresh();
    const saved = readLastGood(this.stateFile);
    const reports: RestoreReport[] = [];
    for (const m of saved?.members ?? []) {
      const u = this.uplinks.find((x) => x.name === m.uplink);
      const base = { uplink: m.uplink, device: m.device, gateway: m.gateway };
      if (!u || !u.enabled || u.device !== m.device || u.family !== m.family) {
        reports.push({
          ...base,
          restored: false,
          reason: `not restored: no enabled ${familyNames[m.family]} uplink ${m.uplink} on ${m.device} in the config`,
        });
        continue;
      }
      const l = this.link(u);
      if (!l || !l.adminUp || !l.carrier) {
        reports.push({ ...base, restored: false, reason: `not restored: ${m.device} has no carrier` });
        continue;
      }
      const had = this.gateways.get(u.name);
      this.gateways.set(u.name, { gateway: m.gateway, source: had?.gateway === m.gateway ? had.source : 'restored' });
      this.reconcile();
      const index = this.uplinks.indexOf(u);
      const answer = await runProbe(
        {
          uplink: u.name,
          family: u.family,
          device: u.device,
          target: m.gateway,
          mark: probeMark(this.opts.config.globals, index).mark,
          timeoutMs: 1000,
          count: 2,
        },
        this.opts.ping,
      );
      if (answer.ok) {
        this.restored.set(u.name, m.gateway);
        this.health.set(u.name, applyRestored(this.healthOf(u), m.gateway));
        reports.push({ ...base, restored: true, reason: `restored: gateway ${m.gateway} answered on ${m.device} (${answer.detail})` });
      } else {
        if (had) this.gateways.set(u.name, had);
        else this.gateways.delete(u.name);
        reports.push({
          ...base,
          restored: false,
          reason: `not restored: gateway ${m.gateway} did not answer on ${m.device} (${answer.detail})`,
        });
      }
    }
    this.restoreReports = reports;
    for (const r of reports) this.log(`${r.uplink}: ${r.reason}`);
    this.reconcile();
    return reports;
  }

  status(now = new Date()): Status {
    return {
      table: this.opts.table,
      uplinks: this.uplinks.map((u, index) => ({
        name: u.name,
        family: familyNames[u.family],
        device: u.device,
        enabled: u.enabled,
        health: this.healthOf(u),
        gateway: this.gateways.get(u.name)?.gateway,
        gatewaySource: this.gateways.get(u.name)?.source,
        metric: u.metric,
        weight: u.weight,
        probeMark: `0x${probeMark(this.opts.config.globals, index).mark.toString(16)}`,
        lastProbe: this.probes.get(u.name) ?? [],
      })),
      choices: this.choices.map((c) => ({ ...c, family: familyNames[c.family] })),
      routes: this.routes,
      restore: this.restoreReports,
      errors: this.errors,
      updatedAt: now.toISOString(),
    };
  }
}

function readLastGoodQuiet(path: string): readonly LastGoodMember[] | undefined {
  try {
    return readLastGood(path)?.members;
  } catch {
    return undefined; // a corrupt file is simply overwritten with the good state
  }
}

/** A default route of someone else's (netifd's) through the uplink's device tells its gateway. */
export function learnGateway(routes: readonly Route[], u: UplinkConfig, ifindex: number | undefined): string | undefined {
  if (ifindex === undefined) return undefined;
  for (const r of routes) {
    if (r.family !== u.family) continue;
    if (r.oif === ifindex && r.gateway !== undefined) return r.gateway;
    const hop = r.nexthops?.find((h) => h.oif === ifindex && h.gateway !== undefined);
    if (hop?.gateway !== undefined) return hop.gateway;
  }
  return undefined;
}
