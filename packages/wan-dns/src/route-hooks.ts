/**
 * What the daemon does when route-watch.ts reports a change, kept out of daemon.ts (which only wires):
 * lost: the server is down until its route returns and its queries fail over at once; back: it is probed again;
 * moved: the family's socket pool is renewed (new sockets, old ones drain), and if the old source address is
 * gone, what was sent from it is sent again.
 */
import type { Daemon } from './daemon.js';
import { RouteWatch, zeroRouteCounts } from './route-watch.js';
import type { RouteReport } from './stats.js';
import type { Server } from './upstreams.js';

/** How long sockets replaced after an address change may wait for answers: a query's whole deadline. */
const DRAIN_MS = 3000;

/** Starts the route watch for `daemon`; when netlink cannot be used, logs one line and returns why. */
export function startRouteWatch(daemon: Daemon, config: { netns?: string; rcvbufBytes?: number }): RouteWatch | string {
  const { log } = daemon.options;
  const renewing = { 4: false, 6: false };
  const watch = RouteWatch.start({
    mark: daemon.options.mark,
    servers: () => daemon.upstreams.list(),
    log,
    netns: config.netns,
    rcvbufBytes: config.rcvbufBytes,
    hooks: {
      lost(server, state) {
        server.routeDown = state.reason;
        daemon.upstreams.invalidate();
        daemon.forwarder.routeLost(server);
      },
      back(server) {
        server.routeBack();
        daemon.upstreams.invalidate();
      },
      moved(server: Server) {
        // Several servers of one family moving together (one uplink switch) renew their pool once.
        const family = server.endpoint.family;
        if (renewing[family]) return;
        renewing[family] = true;
        void daemon.pools[family]
          .renew(DRAIN_MS)
          .catch((err: unknown) => daemon.forwarder.internalError(err))
          .finally(() => {
            renewing[family] = false;
          });
      },
      sourceGone(server: Server) {
        daemon.forwarder.sourceGone(server);
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
