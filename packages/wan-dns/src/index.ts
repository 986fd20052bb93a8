/**
 * @packageDocumentation
 * @meshwan/wan-dns: the WAN DNS forwarder on :54 that sends upstream queries only on sockets verified to carry
 * the WAN mark (replacing gluon-wan-dnsmasq).
 */

export { BatchIo, type BatchSizes, type DatagramHandler, type Peer, peerOf } from './batch-io.js';
export { Cache } from './cache.js';
export {
  CONFIG_PACKAGE,
  DEFAULT_RESOLV,
  parseResolv,
  parseStaticServers,
  readUpstreams,
  type UpstreamList,
  type UpstreamSources,
} from './config.js';
export { checkGroup, Daemon, type DaemonOptions } from './daemon.js';
export { ConfigError, DecodeError, MarkError, StartError } from './errors.js';
export { Forwarder, type ForwarderOptions, type Reply, truncate } from './forwarder.js';
export { type Level, type Logger, stderrLogger } from './log.js';
export { loadAddon, markSocket, type SockmarkAddon } from './mark.js';
export { random16 } from './pool.js';
export { formatRoute, type RouteState, routeState } from './route-state.js';
export { RouteWatch, type RouteWatchHooks, type RouteWatchOptions, type RouteWatchStatus } from './route-watch.js';
export { type Counters, formatStatus, type RouteReport, type StatusReport } from './stats.js';
export { endpointKey, Server, type ServerStats, Upstreams } from './upstreams.js';
export * from './wire.js';
