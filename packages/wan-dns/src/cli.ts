/**
 * wan-dns: the WAN DNS forwarder. `wan-dns [flags]` runs it; `wan-dns --status [--json]` asks a running one.
 * A bad flag or config file is a message naming the flag or file:line and exit status 2 (flags) or 1 (files).
 */
import { decodeUtf8, files, OsError, proc, streams } from '@meshwan/os';
import { type Endpoint, parseEndpoint, readSettings, SettingsError } from '@meshwan/site';
import { openConfig, PlaceError, readUnsigned, UciParseError } from '@meshwan/uci';
import { DEFAULT_RESOLV } from './config.js';
import { checkGroup, Daemon, type DaemonOptions } from './daemon.js';
import { ConfigError, StartError } from './errors.js';
import { type Logger, stderrLogger } from './log.js';
import { formatStatus, type StatusReport } from './stats.js';
import { DEFAULT_TCP_INITIAL_MS, DEFAULT_TCP_PER_CLIENT } from './tcp.js';

export const DEFAULT_CONTROL = '/var/run/wan-dns.sock';

export const usage = `usage: wan-dns [--listen ADDR:PORT]... [--server ADDR[:PORT]]... [--root DIR] [--resolv-file FILE]
               [--mark M] [--cache-size N] [--allow-remote] [--control PATH]
               [--max-inflight N] [--max-tcp N] [--max-tcp-per-client N] [--tcp-initial-timeout S]
               [--tcp-idle-timeout S] [--pool-size N] [--no-route-watch] [--deadline MS] [--attempt-timeout MS]
       wan-dns --status [--json] [--control PATH]`;

/** Thrown when a flag is unknown, lacks its value or has a bad one. */
export class FlagError extends PlaceError {
  override readonly name = 'FlagError';
}

export interface CliArgs {
  status: boolean;
  json: boolean;
  listen: Endpoint[];
  servers: Endpoint[];
  /** The node's root: uci's config and save dirs below it (default `/`). */
  root?: string;
  resolvFile?: string;
  mark?: number;
  cacheSize?: number;
  allowRemote: boolean;
  /** --no-route-watch: do not follow the upstreams' routes over netlink. */
  noRouteWatch: boolean;
  control?: string;
  maxInflight?: number;
  maxTcp?: number;
  maxTcpPerClient?: number;
  /** Seconds. */
  tcpInitialTimeout?: number;
  /** Seconds. */
  tcpIdleTimeout?: number;
  poolSize?: number;
  /** --deadline: a query's SERVFAIL deadline (2500 ms, before a resolver's usual 5 s). */
  deadlineMs?: number;
  /** --attempt-timeout: a fixed wait per upstream attempt instead of 3 x SRTT within 100..1000 ms. */
  attemptTimeoutMs?: number;
  help: boolean;
}

/** A flag's number as netifd reads marks: strtoul base 0 over the whole text (@meshwan/uci's readUnsigned). */
export function parseNumber(flag: string, text: string, min: number, max: number): number {
  const n = readUnsigned(text, { min, max });
  if (!n.ok) throw new FlagError(flag, n.reason);
  return n.value;
}

function endpoint(flag: string, text: string, defaultPort: number): Endpoint {
  const parsed = parseEndpoint(text, defaultPort);
  if (!parsed.ok) throw new FlagError(flag, parsed.reason);
  return parsed.value;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { status: false, json: false, listen: [], servers: [], allowRemote: false, noRouteWatch: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string => {
      if (eq > 0) return raw.slice(eq + 1);
      const next = argv[++i];
      if (next === undefined) throw new FlagError(flag, 'needs a value');
      return next;
    };
    switch (flag) {
      case '--status':
        args.status = true;
        break;
      case '--json':
        args.json = true;
        break;
      case '--allow-remote':
        args.allowRemote = true;
        break;
      case '--no-route-watch':
        args.noRouteWatch = true;
        break;
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '--listen':
        args.listen.push(endpoint(flag, value(), 54));
        break;
      case '--server':
        args.servers.push(endpoint(flag, value(), 53));
        break;
      case '--root':
        args.root = value();
        break;
      case '--resolv-file':
        args.resolvFile = value();
        break;
      case '--control':
        args.control = value();
        break;
      case '--mark':
        args.mark = parseNumber(flag, value(), 1, 0xffffffff);
        break;
      case '--cache-size':
        args.cacheSize = parseNumber(flag, value(), 0, 1_000_000);
        break;
      case '--max-inflight':
        args.maxInflight = parseNumber(flag, value(), 1, 65_536);
        break;
      case '--max-tcp':
        args.maxTcp = parseNumber(flag, value(), 1, 10_000);
        break;
      case '--max-tcp-per-client':
        args.maxTcpPerClient = parseNumber(flag, value(), 1, 10_000);
        break;
      case '--tcp-initial-timeout':
        args.tcpInitialTimeout = parseNumber(flag, value(), 1, 3600);
        break;
      case '--tcp-idle-timeout':
        args.tcpIdleTimeout = parseNumber(flag, value(), 1, 3600);
        break;
      case '--pool-size':
        args.poolSize = parseNumber(flag, value(), 1, 1024);
        break;
      case '--deadline':
        args.deadlineMs = parseNumber(flag, value(), 100, 600_000);
        break;
      case '--attempt-timeout':
        args.attemptTimeoutMs = parseNumber(flag, value(), 10, 600_000);
        break;
      default:
        throw new FlagError(flag, 'unknown flag');
    }
  }
  if (args.listen.some((e) => e.scope !== undefined)) throw new FlagError('--listen', 'a listen address takes no %interface');
  return args;
}

/**
 * Builds the daemon's options from flags over the node's uci settings (@meshwan/site readSettings: the mark of
 * network.wan6_lookup, /etc/config/meshwan's wan_dns and mesh_vpn, staged changes included); never site.ini.
 */
export function daemonOptions(args: CliArgs, log: Logger): DaemonOptions {
  const root = args.root ?? '/';
  const site = readSettings(openConfig({ root }));
  return {
    listen: args.listen.length > 0 ? args.listen : site.wanDns.listen,
    sources: { servers: args.servers, root, resolvFile: args.resolvFile ?? DEFAULT_RESOLV },
    mark: args.mark ?? site.wan.mark,
    cacheSize: args.cacheSize ?? site.wanDns.cacheSize,
    allowRemote: args.allowRemote,
    poolSize: args.poolSize ?? 64,
    maxInflight: args.maxInflight ?? 1024,
    deadlineMs: args.deadlineMs ?? 2500,
    attemptTimeoutMs: args.attemptTimeoutMs,
    tcp: {
      maxConnections: args.maxTcp ?? 64,
      maxPerClient: args.maxTcpPerClient ?? DEFAULT_TCP_PER_CLIENT,
      initialTimeoutMs: args.tcpInitialTimeout === undefined ? DEFAULT_TCP_INITIAL_MS : args.tcpInitialTimeout * 1000,
      idleTimeoutMs: (args.tcpIdleTimeout ?? 10) * 1000,
      maxPipelined: 64,
    },
    controlPath: controlPath(args),
    vpnGid: site.meshVpn.gid,
    log,
    routeWatch: args.noRouteWatch ? undefined : {},
  };
}

/**
 * The control socket: --control, else /var/run/wan-dns.sock under --root (a staged root's own, so a simulated
 * node's daemon and its `--status` never meet another's on the host).
 */
export function controlPath(args: Pick<CliArgs, 'control' | 'root'>): string {
  if (args.control !== undefined) return args.control;
  const root = (args.root ?? '/').replace(/\/+$/, '');
  return `${root}${DEFAULT_CONTROL}`;
}

/** `--status`: reads the running daemon's status from its control socket. */
export function queryStatus(path: string): Promise<StatusReport> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    streams.connect(
      { path },
      {
        onData: (chunk) => chunks.push(chunk),
        onClose: (err) => {
          if (err) return reject(new StartError(`control socket ${path}`, `${err.code} (is wan-dns running?)`));
          const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
          let at = 0;
          for (const c of chunks) {
            all.set(c, at);
            at += c.length;
          }
          try {
            resolve(JSON.parse(decodeUtf8(all)) as StatusReport);
          } catch (parseErr: unknown) {
            reject(new StartError(`control socket ${path}`, `bad status: ${String(parseErr)}`));
          }
        },
      },
    );
  });
}

/** This process's group ids (real, effective, supplementary) from /proc/self/status: the same on every engine. */
export function processGroups(statusText: string): number[] {
  const out: number[] = [];
  for (const line of statusText.split('\n')) {
    const m = /^(Gid|Groups):\s*(.*)$/.exec(line);
    if (m) for (const word of (m[2] ?? '').split(/\s+/)) if (word !== '') out.push(Number(word));
  }
  return out;
}

/** What only the engine's entry can give: signal handlers and the heap limit (bin/wan-dns.js on Node). */
export interface CliHost {
  onSignal?(name: 'SIGHUP' | 'SIGUSR1' | 'SIGTERM' | 'SIGINT', fn: () => void): void;
  heapLimitBytes?: number;
}

export async function runCli(argv: readonly string[], host: CliHost = {}): Promise<number> {
  const log = stderrLogger();
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (err: unknown) {
    if (!(err instanceof FlagError)) throw err;
    proc.writeStderr(`wan-dns: ${err.message}\n${usage}\n`);
    return 2;
  }
  if (args.help) {
    proc.writeStdout(`${usage}\n`);
    return 0;
  }
  try {
    if (args.status) {
      const report = await queryStatus(controlPath(args));
      proc.writeStdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
      return 0;
    }
    const options = { ...daemonOptions(args, log), heapLimitBytes: host.heapLimitBytes };
    checkGroup(options.vpnGid, processGroups(readProcStatus()));
    const daemon = new Daemon(options);
    await daemon.start();
    host.onSignal?.('SIGHUP', () => daemon.reload());
    host.onSignal?.('SIGUSR1', () => daemon.logStatus());
    const stop = (): void => {
      void daemon.close().then(() => proc.exit(0));
    };
    host.onSignal?.('SIGTERM', stop);
    host.onSignal?.('SIGINT', stop);
    return -1;
  } catch (err: unknown) {
    if (err instanceof SettingsError || err instanceof UciParseError || err instanceof ConfigError || err instanceof StartError) {
      log.log('err', err.message);
      return 1;
    }
    throw err;
  }
}

function readProcStatus(): string {
  try {
    return files.readText('/proc/self/status');
  } catch (err: unknown) {
    // Without /proc the group cannot be checked: fail closed, as a bad config does.
    throw new StartError('group', `cannot read /proc/self/status: ${err instanceof OsError ? err.code : String(err)}`);
  }
}
