/**
 * What the daemon does when route-watch.ts reports a change, kept out of daemon.ts (which only wires):
 * lost: the server is down until its route returns and its queries fail over at once, or wait for the route
 * while the WAN is renumbered; back: it is probed again and held queries are sent; moved: the family's socket
 * pool is renewed (new sockets, old ones drain), and if the old source address is gone, what was sent from it is
 * sent again.
 */
import type { Forwarder } from './forwarder.js';
import type { Logger } from './log.js';
import type { SocketPool } from './pool.js';
import { RENUMBER_MS, RouteWatch, zeroRouteCounts } from './route-watch.js';
import type { RouteReport } from './stats.js';
import type { Server, Upstreams } from './upstreams.js';

/**
 * The parts of the daemon the hooks act on. daemon.ts passes itself; the shape is declared here, not imported
 * from daemon.ts, so that daemon.ts -> route-hooks.ts is the only direction between the two.
 */
interface RouteHookTarget {
  readonly options: { readonly log: Logger; readonly mark: number; readonly deadlineMs: number };
  readonly upstreams: Upstreams;
  readonly forwarder: Forwarder;
  readonly pools: { readonly 4: SocketPool; readonly 6: SocketPool };
}

/** Beyond a query's deadline: how much longer replaced sockets drain and vanished sources are remembered. */
const MARGIN_MS = 500;

/** Starts the route watch for `daemon`; when netlink cannot be used, logs one line and returns why. */
export function startRouteWatch(daemon: RouteHookTarget, config: { netns?: string; rcvbufBytes?: number }): RouteWatch | string {
  const { log } = daemon.options;
  const renewing = { 4: false, 6: false };
  // Sockets replaced after an address change may wait for answers, and a source the route stopped using may
  // still have queries waiting on it, for a query's whole deadline.
  const drainMs = daemon.options.deadlineMs + MARGIN_MS;
  const renumberMs = Math.max(RENUMBER_MS, drainMs);
  const watch = RouteWatch.start({
    mark: daemon.options.mark,
    servers: () => daemon.upstreams.list(),
    log,
    netns: config.netns,
    rcvbufBytes: config.rcvbufBytes,
    sourceMemoryMs: drainMs,
    renumberMs,
    hooks: {
      lost(server, state, renumbering) {
        server.routeDown = state.reason;
        server.holdUntilMs = renumbering ? performance.now() + renumberMs : 0;
        daemon.upstreams.invalidate();
        daemon.forwarder.routeLost(server);
      },
      renumbering(server, on) {
        server.holdUntilMs = on ? performance.now() + renumberMs : 0;
        // Ended without a route (carrier lost): what waits for this server fails now, nothing is sent.
        if (!on) daemon.forwarder.releaseHeld();
      },
      back(server) {
        server.routeBack();
        server.holdUntilMs = 0;
        daemon.upstreams.invalidate();
        daemon.forwarder.releaseHeld();
      },
      moved(server: Server) {
        // Several servers of one family moving together (one uplink switch) renew their pool once.
        const family = server.endpoint.family;
        if (renewing[family]) return;
        renewing[family] = true;
        void daemon.pools[family]
          .renew(drainMs)
          .catch((err: unknown) => daemon.forwarder.internalError(err))
          .finally(() => {
            renewing[family] = false;
          });
      },
      sourceGone(server: Server, source: string) {
        daemon.forwarder.sourceGone(server, source);
      },
    },
  });
  if (typeof watch === 'string') {
    log.log('warning', `route watch off, running without route awareness: ${watch}`);
    return `off: ${watch}`;
  }
  return watch;
}

/** The `routes` part of the status report. */
export function routeStatus(routes: RouteWatch | string, servers: readonly Server[], renewals: readonly number[]): { routes: RouteReport } {
  const poolRenewals = renewals.reduce((a, b) => a + b, 0);
  if (typeof routes === 'string') {
    return { routes: { state: routes, ...zeroRouteCounts(), poolRenewals, servers: [] } };
  }
  const out: RouteReport['servers'] = [];
  for (const s of servers) {
    const state = routes.state(s);
    if (state !== undefined) out.push({ server: s.key, ...state });
  }
  return { routes: { state: 'on', ...routes.status(), poolRenewals, servers: out } };
}
