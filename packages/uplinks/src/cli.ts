/**
 * meshwan-uplinks: `daemon` keeps the WAN table's default on the best healthy uplink(s); `once` probes every
 * uplink once and reconciles; `restore` only does the boot restore; `status [--json]` shows each uplink's health,
 * probes, the chosen default and why; `flush` removes everything of ours (the init script's reload, once no interface
 * is enabled any more). Exit codes: 0 ok, 1 failing closed / not restored / no status, 2 usage or config.
 */
import { Netlink } from '@meshwan/netlink';
import { files, OsError, proc, signals } from '@meshwan/os';
import { readSettings, SettingsError } from '@meshwan/site';
import { openConfig, type Uci, UciParseError, writeFileAtomic } from '@meshwan/uci';
import { loadConfig, RTPROT_UPLINKS, type UplinksConfig } from './config.js';
import { startDaemon } from './daemon.js';
import { Engine, type Status } from './engine.js';
import { ProbeError, StateFileError, UplinksConfigError } from './errors.js';
import { judgeStatusFile } from './freshness.js';
import { applyDesired } from './kernel.js';
import { renderStatus, type StatusFile, statusWriter } from './render.js';

export { renderStatus };

const usage = `usage: meshwan-uplinks daemon|once|restore|status|flush [--json] [--root DIR] [--state-file FILE] [--status-file FILE]`;
export const defaultStatusFile = '/var/run/meshwan-uplinks.json';

interface Options {
  command: string;
  json: boolean;
  /** The node's root: uci's confdir and save dir below it (openConfig). */
  root: string;
  stateFile: string | undefined;
  statusFile: string;
}

function parseArgs(args: readonly string[]): Options | string {
  const o: Options = {
    command: '',
    json: false,
    root: '/',
    stateFile: undefined,
    statusFile: defaultStatusFile,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const value = (): string | undefined => args[++i];
    switch (a) {
      case '--json':
        o.json = true;
        break;
      case '--root':
      case '--state-file':
      case '--status-file': {
        const v = value();
        if (v === undefined) return `${a} needs a value`;
        if (a === '--root') o.root = v;
        else if (a === '--state-file') o.stateFile = v;
        else o.statusFile = v;
        break;
      }
      default:
        if (a.startsWith('-')) return `unknown option ${a}`;
        if (o.command !== '') return `unexpected argument ${a}`;
        o.command = a;
    }
  }
  if (!['daemon', 'once', 'restore', 'status', 'flush'].includes(o.command))
    return o.command === '' ? 'missing command' : `unknown command ${o.command}`;
  return o;
}

/** The config's own table, else the one netifd's WAN rule looks up (network.wan6_lookup): never site.ini. */
function wanTable(config: UplinksConfig, uci: Uci): number {
  return config.globals.table ?? readSettings(uci).wan.table;
}

function hasDefault(s: Status): boolean {
  return s.choices.length > 0 && s.choices.every((c) => c.members.length > 0);
}

/**
 * `flush`: removes every route and rule carrying our protocol and the status file. Run by the init script's reload
 * when the config no longer enables any interface: the daemon leaves its routes on SIGTERM (a restart must not drop
 * the WAN), so without this its last default would stay in the WAN table with nobody to withdraw it.
 */
function flush(uci: Uci, statusFile: string, log: (line: string) => void): number {
  let protocol = RTPROT_UPLINKS;
  try {
    protocol = loadConfig(uci).globals.protocol;
  } catch (err: unknown) {
    if (!(err instanceof UplinksConfigError)) throw err;
    log(`${err.message}; flushing protocol ${protocol}`);
  }
  const nl = Netlink.open();
  try {
    const result = applyDesired(nl, { routes: [], rules: [] }, protocol);
    for (const c of result.changed) log(c);
    for (const e of result.errors) log(e.message);
    removeIfPresent(statusFile);
    return result.errors.length > 0 ? 1 : 0;
  } finally {
    nl.close();
  }
}

/** Removes `path`; one already gone is fine (a daemon that never wrote its status). */
function removeIfPresent(path: string): void {
  try {
    files.remove(path);
  } catch (err: unknown) {
    if (!(err instanceof OsError && err.code === 'ENOENT')) throw err;
  }
}

/**
 * A log line with its wall-clock time (ISO 8601, ms): failover and recovery are judged to the interval, and
 * stderr through procd/logd only carries second resolution. The tag stays first, as syslog readers expect.
 */
export function logLine(line: string, now = new Date()): string {
  return `meshwan-uplinks: ${now.toISOString()} ${line}\n`;
}

export async function runUplinksCli(args: readonly string[]): Promise<number> {
  const o = parseArgs(args);
  if (typeof o === 'string') {
    proc.writeStderr(`meshwan-uplinks: ${o}\n${usage}\n`);
    return 2;
  }
  const log = (line: string) => proc.writeStderr(logLine(line));
  try {
    if (o.command === 'status') {
      let text: string;
      try {
        text = files.readText(o.statusFile);
      } catch {
        proc.writeStderr(
          `meshwan-uplinks: no status at ${o.statusFile}: is the daemon running? (meshwan-uplinks once shows a one-off status)\n`,
        );
        return 1;
      }
      const s = JSON.parse(text) as StatusFile;
      proc.writeStdout(o.json ? text : renderStatus(s));
      // A stale file is still the last known state: shown, and flagged on stderr (a one-off `once` says so too).
      const freshness = judgeStatusFile(s, new Date());
      if (!freshness.fresh) proc.writeStderr(`meshwan-uplinks: ${o.statusFile}: ${freshness.summary}\n`);
      return 0;
    }
    const uci = openConfig({ root: o.root });
    if (o.command === 'flush') return flush(uci, o.statusFile, log);
    const config = loadConfig(uci);
    const table = wanTable(config, uci);
    const nl = Netlink.open();
    if (o.command === 'daemon') {
      const d = await startDaemon(nl, { config, table, statusFile: o.statusFile, stateFile: o.stateFile, log });
      // SIGUSR1: files/etc/hotplug.d/iface/60-meshwan-uplinks after an uplink's interface went up, down or changed.
      const poke = () => {
        log('poked: resync');
        d.poke();
      };
      const offPoke = signals.on('SIGUSR1', poke);
      await new Promise<void>((resolve) => {
        const offs = (['SIGTERM', 'SIGINT'] as const).map((name) =>
          signals.on(name, () => {
            for (const off of offs) off();
            resolve();
          }),
        );
      });
      offPoke();
      d.stop();
      nl.close();
      return 0;
    }
    const engine = new Engine(nl, { config, table, stateFile: o.stateFile, log });
    const reports = await engine.restore();
    if (o.command === 'once') {
      // One round, no hysteresis: a one-shot has nothing to smooth over.
      await Promise.all(config.uplinks.filter((u) => u.enabled).map((u) => engine.probe(u, false)));
      engine.refresh();
      engine.reconcile();
    }
    const s: StatusFile = { ...engine.status(), writer: statusWriter(o.command === 'once' ? 'once' : 'restore', config) };
    nl.close();
    writeFileAtomic(o.statusFile, `${JSON.stringify(s, null, 2)}\n`, { mkdir: true });
    proc.writeStdout(o.json ? `${JSON.stringify(s, null, 2)}\n` : renderStatus(s));
    if (o.command === 'restore') return reports.some((r) => r.restored) ? 0 : 1;
    return hasDefault(s) ? 0 : 1;
  } catch (err: unknown) {
    if (
      err instanceof UplinksConfigError ||
      err instanceof SettingsError ||
      err instanceof UciParseError ||
      err instanceof StateFileError ||
      err instanceof ProbeError
    ) {
      proc.writeStderr(`meshwan-uplinks: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
