/**
 * The daemon wires the parts together and holds no protocol logic: listeners -> forwarder -> marked pools;
 * upstream list from config.ts, reloaded on file change and SIGHUP (in-flight queries keep the servers they
 * were sent to); status on SIGUSR1 and on the control socket used by `wan-dns --status`.
 */
import { encodeUtf8, files, type IpFamily, OsError, proc, type StreamServer, streams, type TimerHandle, timers } from '@meshwan/os';
import type { Endpoint } from '@meshwan/site';
import { BatchIo } from './batch-io.js';
import { Cache, cacheEntriesFor } from './cache.js';
import { readUpstreams, type UpstreamSources, uciFiles } from './config.js';
import { ConfigError, MarkError, StartError } from './errors.js';
import { Forwarder } from './forwarder.js';
import type { Logger } from './log.js';
import { loadAddon, type SockmarkAddon } from './mark.js';
import { SocketPool } from './pool.js';
import { routeStatus, startRouteWatch } from './route-hooks.js';
import type { RouteWatch } from './route-watch.js';
import { type Counters, formatStatus, newCounters, type StatusReport } from './stats.js';
import { listenTcp, type TcpLimits, type TcpListener, tcpConnections } from './tcp.js';
import type { TcpConnections } from './tcp-conns.js';
import { listenBatched, type UdpListener } from './udp.js';
import { endpointKey, Upstreams } from './upstreams.js';

export interface DaemonOptions {
  listen: readonly Endpoint[];
  sources: UpstreamSources;
  mark: number;
  cacheSize: number;
  allowRemote: boolean;
  /** Upstream UDP sockets per address family (at least 64 for spoofing resistance). */
  poolSize: number;
  maxInflight: number;
  deadlineMs: number;
  /** A fixed per-attempt timeout instead of 3 x SRTT within 100..1000 ms (`--attempt-timeout`). */
  attemptTimeoutMs?: number;
  tcp: TcpLimits;
  /** Unix socket for `wan-dns --status`; undefined: none. */
  controlPath: string | undefined;
  /** gid of the mesh-VPN group (Gluon: 800): the forwarder must not run in it, or its queries loop back to it. */
  vpnGid: number;
  log: Logger;
  /** For tests: another marking addon (or a load failure) instead of the seam's sockets. */
  addon?: SockmarkAddon | MarkError;
  /** The engine's heap limit (Node: V8's heap_size_limit, from bin/wan-dns.js); undefined: no limit to fit. */
  heapLimitBytes?: number;
  /** The pools' drain clock (ms; default Date.now): tests move it to end a drain on purpose. */
  poolClock?: () => number;
  /** Follow the upstreams' routes (route-watch.ts); off unless given (`--no-route-watch` leaves it off). */
  routeWatch?: { netns?: string; rcvbufBytes?: number };
}

/** Throws StartError when this process is in the mesh-VPN group (the firewall would redirect our own queries). */
export function checkGroup(vpnGid: number, gids: readonly number[]): void {
  if (gids.includes(vpnGid))
    throw new StartError('group', `running in the mesh-VPN group (gid ${vpnGid}): its DNS is redirected to this forwarder, a loop`);
}

export class Daemon {
  readonly counters: Counters = newCounters();
  readonly upstreams = new Upstreams();
  readonly forwarder: Forwarder;
  readonly pools: { 4: SocketPool; 6: SocketPool };
  readonly cache: Cache | undefined;
  private readonly startedMs = Date.now();
  private upstreamSource = '';
  private udp: UdpListener[] = [];
  /** The batched UDP I/O of listeners and pools; undefined without the addon. */
  readonly io: BatchIo | undefined;
  private tcp: TcpListener[] = [];
  /** The TCP client connections of every listener, under one global and one per-client cap. */
  readonly tcpConns: TcpConnections;
  private control: StreamServer | undefined;
  private pollTimer: TimerHandle | undefined;
  /** Why the batched UDP I/O could not start (the seam's binding is missing); listeners then fail to start. */
  private readonly ioError: MarkError | undefined;
  private readonly addon: SockmarkAddon | MarkError;
  /** The route watch, or why it is off. */
  routes: RouteWatch | string = 'off (--no-route-watch)';

  constructor(readonly options: DaemonOptions) {
    const seam = loadAddon();
    this.addon = options.addon ?? seam;
    const onMarkError = (err: MarkError): void => {
      this.options.log.once(`mark-${err.op}-${err.code}`, 'err', `${err.message}: such sockets never send; queries get SERVFAIL`);
    };
    this.ioError = seam instanceof MarkError ? seam : undefined;
    this.io = seam instanceof MarkError ? undefined : new BatchIo(seam, (err) => this.forwarder.internalError(err));
    const pool = (family: IpFamily): SocketPool =>
      new SocketPool({
        family,
        io: this.io,
        size: options.poolSize,
        mark: options.mark,
        addon: this.addon,
        rotateMs: 1000,
        onMarkError,
        onStray: () => this.counters.strayAnswers++,
        now: options.poolClock,
      });
    this.pools = { 4: pool(4), 6: pool(6) };
    const heapLimit = options.heapLimitBytes ?? Number.POSITIVE_INFINITY;
    const entries = cacheEntriesFor(options.cacheSize, heapLimit);
    if (entries < options.cacheSize)
      options.log.log(
        'warning',
        `cache of ${options.cacheSize} entries does not fit the ${Math.round(heapLimit / 1048576)} MiB heap (node --max-old-space-size): caching ${entries}`,
      );
    this.cache = entries > 0 ? new Cache(entries) : undefined;
    this.tcpConns = tcpConnections(options.tcp, this.counters);
    this.forwarder = new Forwarder({
      upstreams: this.upstreams,
      pools: this.pools,
      cache: this.cache,
      counters: this.counters,
      log: options.log,
      addon: this.addon,
      mark: options.mark,
      maxInflight: options.maxInflight,
      deadlineMs: options.deadlineMs,
      attemptTimeoutMs: options.attemptTimeoutMs,
    });
  }

  /** Reads the upstreams (a bad file is a ConfigError: fatal at start), opens pools, then the listeners. */
  async start(): Promise<void> {
    try {
      // Inside the try: the batched I/O's poll handle would keep the process alive after a failed start.
      this.applyUpstreams(true);
      await Promise.all([this.pools[4].start(), this.pools[6].start()]);
      for (const e of this.options.listen) {
        if (this.io === undefined) throw new StartError(`udp ${endpointKey(e)}`, `no sockets: ${this.ioError?.code ?? 'unknown'}`);
        this.udp.push(listenBatched(e, this.io, this.forwarder, this.counters, this.options.allowRemote));
        this.tcp.push(await listenTcp(e, this.forwarder, this.counters, this.options.allowRemote, this.options.tcp, this.tcpConns));
      }
    } catch (err: unknown) {
      await this.close();
      throw err;
    }
    if (this.options.controlPath !== undefined) {
      // Without the control socket only --status is lost; answering DNS matters more.
      await this.listenControl(this.options.controlPath).catch((err: unknown) => {
        this.options.log.log('err', `${err instanceof Error ? err.message : String(err)}: wan-dns --status will not work`);
      });
    }
    this.watchSources();
    if (this.options.routeWatch) this.routes = startRouteWatch(this, this.options.routeWatch);
    this.options.log.log(
      'info',
      `listening on ${this.options.listen.map(endpointKey).join(' ')}; mark 0x${this.options.mark.toString(16)}; ${this.pools[4].markedCount() + this.pools[6].markedCount()} marked upstream sockets; cache ${this.cache?.maxEntries ?? 0}`,
    );
  }

  /** Re-reads the upstream sources. A bad file at a reload is logged and the old list kept. */
  reload(): void {
    this.counters.reloads++;
    try {
      this.applyUpstreams(false);
    } catch (err: unknown) {
      if (!(err instanceof ConfigError)) throw err;
      this.counters.reloadErrors++;
      this.options.log.log('err', `reload: ${err.message}; keeping ${this.upstreams.list().length} servers`);
    }
  }

  private applyUpstreams(initial: boolean): void {
    const { servers, source } = readUpstreams(this.options.sources);
    const before = this.upstreams
      .list()
      .map((s) => s.key)
      .join(' ');
    this.upstreams.set(servers);
    this.upstreamSource = source;
    const after = this.upstreams
      .list()
      .map((s) => s.key)
      .join(' ');
    if (initial || before !== after) this.options.log.log('info', `upstream servers from ${source}: ${after || '(none)'}`);
    if (typeof this.routes !== 'string') this.routes.schedule();
  }

  /** The uci package, its staged changes and the resolv file: a change to any re-reads the servers. */
  private sourceFiles(): string[] {
    return [...uciFiles(this.options.sources.root), this.options.sources.resolvFile];
  }

  /**
   * Polls the source files once a second and reloads when one changed (content, or appeared or went): update.lua
   * replaces resolv.conf by rename and uci commits by rename, so the bytes are what to compare, not one inode.
   */
  private watchSources(): void {
    const paths = this.options.sources.servers.length > 0 ? [] : this.sourceFiles();
    if (paths.length === 0) return;
    const snapshot = (): string =>
      paths
        .map((path) => {
          try {
            return files.readText(path);
          } catch (err: unknown) {
            return `\0${err instanceof OsError ? err.code : String(err)}`;
          }
        })
        .join('\0\0');
    let last = snapshot();
    this.pollTimer = timers.every(1000, () => {
      const now = snapshot();
      if (now === last) return;
      last = now;
      this.reload();
    });
  }

  status(): StatusReport {
    const now = performance.now();
    return {
      pid: proc.pid,
      uptimeSeconds: Math.round((Date.now() - this.startedMs) / 1000),
      mark: `0x${this.options.mark.toString(16)}`,
      markedSockets: this.pools[4].markedCount() + this.pools[6].markedCount(),
      poolSockets: this.pools[4].sockets.length + this.pools[6].sockets.length,
      inflight: this.forwarder.inflight,
      cacheSize: this.cache?.maxEntries ?? 0,
      cacheEntries: this.cache?.size ?? 0,
      upstreamSource: this.upstreamSource,
      counters: { ...this.counters },
      servers: this.upstreams.list().map((s) => s.snapshot(now)),
      ...routeStatus(this.routes, this.upstreams.list(), [this.pools[4].renewals, this.pools[6].renewals]),
    };
  }

  /** SIGUSR1: the status to the log, one line each (as dnsmasq dumps its statistics to syslog). */
  logStatus(): void {
    for (const line of formatStatus(this.status()).trimEnd().split('\n')) this.options.log.log('info', line);
  }

  private async listenControl(path: string): Promise<void> {
    try {
      files.remove(path);
    } catch {
      // not there: fine
    }
    try {
      this.control = await streams.listen({ path }, (stream) => {
        stream.write(encodeUtf8(`${JSON.stringify(this.status())}\n`));
        stream.end();
        return { onData: () => {}, onClose: () => {} };
      });
    } catch (err: unknown) {
      throw new StartError(`control socket ${path}`, err instanceof OsError ? err.code : String(err));
    }
  }

  /** Stops listening and closes every socket; in-flight queries are abandoned. */
  async close(): Promise<void> {
    if (this.pollTimer !== undefined) timers.clear(this.pollTimer);
    for (const s of this.udp) s.close();
    // Not awaited: open client connections would hold close() until their idle timeout.
    for (const s of this.tcp) s.close();
    if (this.control) {
      this.control.close();
      this.control = undefined;
      try {
        if (this.options.controlPath) files.remove(this.options.controlPath);
      } catch {
        // already gone
      }
    }
    if (typeof this.routes !== 'string') this.routes.close();
    this.pools[4].close();
    this.pools[6].close();
    this.forwarder.close();
    this.io?.close();
  }
}
