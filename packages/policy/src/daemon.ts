/**
 * `meshwan daemon`: wires config, netlink and the firewall together; no protocol logic lives here. It applies
 * once, then runs a pass whenever the netlink Monitor reports a link, address, route or rule change (and at the
 * latest every `pollMs`; the firewall has no events, so it is polled every `firewallPollMs`), repairing what
 * drifted and logging each repair. With the Monitor, a pass reads the kernel's state from the Monitor's cache
 * (kept in step by the kernel's notifications) instead of dumping it again; see `FULL_READ_MS` for when it dumps.
 * SIGHUP re-reads the config; SIGTERM/SIGINT stop it after the current pass, leaving the split in place (fail closed).
 */

import type { Firewall } from '@meshwan/iptables-wrapper';
import type { Netlink } from '@meshwan/netlink';
import { paths, timers } from '@meshwan/os';
import { applyFirewall, applyRouting } from './apply.js';
import { type Context, loadContext, type Paths } from './config.js';
import type { KernelSource } from './kernel.js';
import { KEEP_REPAIRS, type Repair, readRepairs, writeRepairs } from './repairs.js';

export interface DaemonOptions {
  readonly paths: Paths;
  readonly nl: Netlink;
  readonly firewall: Firewall | undefined;
  /** Events from the netlink Monitor wake a pass at once; without it, the kernel is polled every pollMs. */
  readonly monitor?: {
    on(listener: (e: { type: string }) => void): () => void;
    close(): void;
    /** The Monitor's RouteCache: what a pass reads instead of a dump. */
    readonly cache: KernelSource;
    /** Events were lost (ENOBUFS) and the re-dump that makes the cache exact again has not run yet. */
    readonly stale: boolean;
  };
  readonly pollMs: number;
  readonly firewallPollMs: number;
  readonly log: (line: string) => void;
}

/**
 * How often a pass with the Monitor dumps the kernel anyway. The kernel does not announce every change (IPv4 routes
 * flushed with a link, which the Monitor re-dumps for; a rule's iif becoming detached), and a lost notification
 * that no overrun reported would otherwise stay wrong in the cache until the next event; the kernel is the truth.
 */
const FULL_READ_MS = 30_000;

export class Daemon {
  private ctx: Context;
  private stopping = false;
  private reloadWanted = false;
  private networkMtimeMs: string;
  private repairs: Repair[];
  private lastFirewallMs = 0;
  private lastFullReadMs = 0;
  private wake: (() => void) | undefined;
  /** An event arrived since the last pass started. */
  private dirty = false;

  constructor(private readonly opts: DaemonOptions) {
    this.ctx = loadContext(opts.paths);
    this.networkMtimeMs = this.mtime();
    this.repairs = readRepairs(opts.paths.stateDir);
  }

  /** The mtimes of the configs policy reads and of their staged changes: a change to any re-reads them all. */
  private mtime(): string {
    const of = (path: string) => {
      try {
        return paths.mtimeMs(path);
      } catch {
        return 0;
      }
    };
    return this.opts.paths.watched.map(of).join('|');
  }

  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  reload(): void {
    this.reloadWanted = true;
    this.wake?.();
  }

  private record(changes: readonly string[], initial: boolean): void {
    if (changes.length === 0) return;
    const at = new Date().toISOString();
    for (const change of changes) {
      this.opts.log(`${initial ? 'apply' : 'repair'}: ${change}`);
      if (!initial) this.repairs.push({ at, change });
    }
    if (initial) return;
    this.repairs = this.repairs.slice(-KEEP_REPAIRS);
    try {
      writeRepairs(this.opts.paths.stateDir, this.repairs);
    } catch (err: unknown) {
      this.opts.log(`cannot record repairs in ${this.opts.paths.stateDir}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** One pass; `initial` is the start-up apply (logged as apply, not as a repair). */
  async pass(initial: boolean): Promise<void> {
    const mtime = this.mtime();
    if (this.reloadWanted || mtime !== this.networkMtimeMs) {
      this.reloadWanted = false;
      this.networkMtimeMs = mtime;
      try {
        this.ctx = loadContext(this.opts.paths);
        this.opts.log(`config reloaded from ${this.opts.paths.network} and ${this.opts.paths.uplinksConfig}`);
      } catch (err: unknown) {
        // Keep enforcing the last good config: a typo must not open the split.
        this.opts.log(`config not reloaded, keeping the last good one: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const now = Date.now();
    const { monitor } = this.opts;
    // The start-up pass, a stale cache (an overrun not yet re-dumped) and every FULL_READ_MS read a fresh dump.
    const full = !monitor || initial || monitor.stale || now - this.lastFullReadMs >= FULL_READ_MS;
    if (full) this.lastFullReadMs = now;
    const routing = applyRouting(this.opts.nl, this.ctx, now, full ? this.opts.nl : monitor.cache);
    this.record(routing.changes, initial);
    for (const e of routing.errors) this.opts.log(`error: ${e.message}`);
    if (this.opts.firewall && (initial || now - this.lastFirewallMs >= this.opts.firewallPollMs)) {
      this.lastFirewallMs = now;
      const fw = await applyFirewall(this.opts.firewall, this.ctx);
      this.record(fw.changes, initial);
      for (const e of fw.errors) this.opts.log(`error: ${e.message}`);
    }
  }

  async run(): Promise<void> {
    for (const e of this.ctx.network.errors) this.opts.log(`config: ${e.message} (skipped)`);
    const { uplinks } = this.ctx;
    if (uplinks.error !== undefined) this.opts.log(`uplinks config unusable, WAN defaults stay in the WAN table: ${uplinks.error}`);
    if (uplinks.configured) {
      const devs = uplinks.uplinks.map((u) => `${u.device} (IPv${u.family})`).join(', ');
      this.opts.log(`meshwan-uplinks configured: the WAN default of ${devs} is its daemon's (proto ${uplinks.protocol})`);
    }
    const unsubscribe = this.opts.monitor?.on((e) => {
      if (e.type === 'synced') return;
      if (e.type === 'error') this.opts.log(`monitor: ${(e as { error?: Error }).error?.message ?? 'error'}`);
      // Events were lost: the Monitor has dumped again, so its cache (which the pass this wakes reads) is exact.
      if (e.type === 'resynced') this.opts.log(`monitor: events lost (${(e as { reason?: string }).reason ?? 'overrun'}), resynced`);
      this.dirty = true;
      this.wake?.();
    });
    await this.pass(true);
    this.opts.log(this.opts.monitor ? 'watching (netlink monitor)' : 'watching (polling)');
    const sleepMs = this.opts.firewall ? Math.min(this.opts.pollMs, this.opts.firewallPollMs) : this.opts.pollMs;
    while (!this.stopping) {
      if (!this.dirty) {
        await new Promise<void>((resolve) => {
          const timer = timers.after(sleepMs, resolve);
          this.wake = () => {
            timers.clear(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
      this.dirty = false;
      if (this.stopping) break;
      try {
        await this.pass(false);
      } catch (err: unknown) {
        // A failed dump (ENOBUFS, a netlink timeout) is retried on the next pass rather than ending the daemon.
        this.opts.log(`pass failed, retrying: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    unsubscribe?.();
    this.opts.log('stopped');
  }
}
