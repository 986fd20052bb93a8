/**
 * `meshwan-uplinks daemon`: wires timers, the netlink monitor and the engine together; no routing logic here.
 * Each uplink is probed every `interval`; a round that changes an uplink's health reconciles at once, so failover
 * takes one round-trip timeout after the `down`-th lost round. Carrier events (RTM_NEWLINK through the monitor)
 * reconcile at once too. A slower tick re-reads links, gateways and the resolv file and repairs drift.
 */
import { Monitor, type MonitorEvent, type Netlink } from '@meshwan/netlink';
import { type TimerHandle, timers } from '@meshwan/os';
import { writeFileAtomic } from '@meshwan/uci';
import type { UplinksConfig } from './config.js';
import { Engine } from './engine.js';
import { type StatusFile, statusWriter } from './render.js';

export interface DaemonOptions {
  readonly config: UplinksConfig;
  readonly table: number;
  readonly statusFile: string;
  readonly stateFile?: string;
  readonly ping?: string;
  readonly resyncMs?: number;
  readonly log: (line: string) => void;
}

export interface RunningDaemon {
  readonly engine: Engine;
  /** Re-read links, gateways and the resolv file and reconcile now (SIGUSR1, from the netifd hotplug hook). */
  poke(): void;
  stop(): void;
}

export async function startDaemon(nl: Netlink, opts: DaemonOptions): Promise<RunningDaemon> {
  const engine = new Engine(nl, { config: opts.config, table: opts.table, ping: opts.ping, stateFile: opts.stateFile, log: opts.log });
  const writer = statusWriter('daemon', opts.config);
  const writeStatus = () => {
    try {
      const file: StatusFile = { ...engine.status(), writer };
      writeFileAtomic(opts.statusFile, `${JSON.stringify(file, null, 2)}\n`, { mkdir: true });
    } catch (err: unknown) {
      opts.log(`cannot write ${opts.statusFile}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const sync = () => {
    try {
      engine.refresh();
      engine.reconcile();
    } catch (err: unknown) {
      opts.log(`reconcile: ${err instanceof Error ? err.message : String(err)}`);
    }
    writeStatus();
  };
  try {
    await engine.restore();
  } catch (err: unknown) {
    opts.log(`restore: ${err instanceof Error ? err.message : String(err)}`);
  }
  sync();

  const ticks: TimerHandle[] = [];
  for (const u of opts.config.uplinks.filter((x) => x.enabled)) {
    let inFlight = 0;
    const round = async () => {
      // Rounds may overlap when timeout > interval; two in flight is enough to keep the cadence without piling up.
      if (inFlight >= 2) return;
      inFlight++;
      try {
        if (await engine.probe(u)) sync();
        else writeStatus();
      } catch (err: unknown) {
        opts.log(`probe ${u.name}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        inFlight--;
      }
    };
    void round();
    ticks.push(timers.every(u.intervalMs, () => void round()));
  }
  ticks.push(timers.every(opts.resyncMs ?? 2000, sync));

  let monitor: Monitor | undefined;
  try {
    monitor = Monitor.start();
    monitor.on((e: MonitorEvent) => {
      if (e.type === 'carrier' || e.type === 'admin' || e.type === 'resynced') sync();
      else if (e.type === 'error') opts.log(`monitor: ${e.error.message}`);
    });
  } catch (err: unknown) {
    // Without the monitor, carrier changes are still seen by the resync tick, only later.
    opts.log(`monitor unavailable, polling links: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    engine,
    poke: sync,
    stop() {
      for (const t of ticks) timers.clear(t);
      monitor?.close();
    },
  };
}
