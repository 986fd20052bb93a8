/** Routes: dump (all tables, ids above 255 included), get (RTM_GETROUTE), add, replace, delete. */

import type { IpFamily } from '@meshwan/os';
import {
  familyNames,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  RTM_DELROUTE,
  RTM_F_CLONED,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  tableNames,
} from './codec/constants.js';
import {
  blankRoute,
  decodeRoute,
  decodeRouteInto,
  encodeRoute,
  encodeRouteDump,
  encodeRouteQuery,
  type Route,
  type RouteQuery,
  type RouteSpec,
} from './codec/route.js';
import { NetlinkError } from './errors.js';
import type { NetlinkSocket } from './socket.js';

export interface RouteFilter {
  family?: IpFamily;
  /** only this table (applied by the kernel with strict checking, and again here) */
  table?: number;
}

export function listRoutes(sock: NetlinkSocket, filter: RouteFilter = {}): Route[] {
  let out: Route[] = [];
  const visit = (buf: Uint8Array, h: { type: number }, off: number, end: number) => {
    if (h.type !== RTM_NEWROUTE) return;
    const r = decodeRoute(buf, off, end);
    // cached clones (PMTU exceptions) are not FIB entries
    if (r.flags & RTM_F_CLONED) return;
    if (filter.table !== undefined && r.table !== filter.table) return;
    out.push(r);
  };
  const families: (IpFamily | undefined)[] = filter.family ? [filter.family] : [4, 6];
  for (const family of families) {
    const before = out.length;
    try {
      sock.dump(
        () => encodeRouteDump(RTM_GETROUTE, 0, family, filter.table),
        'listRoutes',
        `${family ? familyNames[family] : ''}${filter.table !== undefined ? ` table ${filter.table}` : ''}`,
        visit,
        () => {
          out.length = before;
        },
      );
    } catch (err: unknown) {
      // a table that was never created: the kernel says ENOENT; that is an empty table
      if (!(err instanceof NetlinkError && err.code === 'ENOENT' && filter.table !== undefined)) throw err;
      out.length = before;
    }
  }
  if (!filter.family) out = out.slice();
  return out;
}

/**
 * Visits every route as it is read from the socket (`meshwan-netlink routes`: a 100k-route dump printed without
 * holding it): each is decoded into one reused Route, valid only during the call. Families in listRoutes' order.
 * A dump the kernel flagged NLM_F_DUMP_INTR cannot be restarted once visited: returns true then (iproute2 warns).
 */
export function streamRoutes(sock: NetlinkSocket, filter: RouteFilter, visit: (route: Route) => void): boolean {
  const route = blankRoute();
  let interrupted = false;
  const each = (buf: Uint8Array, h: { type: number }, off: number, end: number) => {
    if (h.type !== RTM_NEWROUTE) return;
    const r = decodeRouteInto(buf, off, end, route);
    if (r.flags & RTM_F_CLONED || (filter.table !== undefined && r.table !== filter.table)) return;
    visit(r);
  };
  for (const family of filter.family ? [filter.family] : ([4, 6] as const)) {
    try {
      const request = `${familyNames[family]}${filter.table !== undefined ? ` table ${filter.table}` : ''}`;
      if (sock.dumpOnce(encodeRouteDump(RTM_GETROUTE, 0, family, filter.table), 'listRoutes', request, each)) interrupted = true;
    } catch (err: unknown) {
      if (!(err instanceof NetlinkError && err.code === 'ENOENT' && filter.table !== undefined)) throw err;
    }
  }
  return interrupted;
}

function tableName(table: number): string {
  return tableNames[table] ?? String(table);
}

/** `2001:db8::/32 table 1 (inet6)`: what an error message says was asked. */
function describeRoute(spec: RouteSpec): string {
  const parts = [spec.type && spec.type !== 'unicast' ? `${spec.type} ${spec.dst}` : spec.dst];
  if (spec.gateway) parts.push(`via ${spec.gateway}`);
  if (spec.dev !== undefined) parts.push(`dev ${spec.dev}`);
  if (spec.table !== undefined) parts.push(`table ${tableName(spec.table)}`);
  if (spec.metric !== undefined) parts.push(`metric ${spec.metric}`);
  if (spec.expiresSeconds !== undefined) parts.push(`expires ${spec.expiresSeconds}`);
  const family = spec.family ?? (spec.dst.includes(':') ? 6 : spec.dst.includes('.') ? 4 : '');
  return `${parts.join(' ')}${family ? ` (${familyNames[family]})` : ''}`;
}

export function addRoute(sock: NetlinkSocket, spec: RouteSpec): void {
  sock.ack(encodeRoute(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, spec, false), 'addRoute', describeRoute(spec));
}

/** `ip route replace`: creates the route or replaces the one with the same key (dst, table, metric/tos). */
export function replaceRoute(sock: NetlinkSocket, spec: RouteSpec): void {
  sock.ack(encodeRoute(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, spec, false), 'replaceRoute', describeRoute(spec));
}

/** `ip route append`: adds another route with the same key (IPv6 ECMP sibling, IPv4 alias). */
export function appendRoute(sock: NetlinkSocket, spec: RouteSpec): void {
  sock.ack(encodeRoute(RTM_NEWROUTE, NLM_F_CREATE | 0x800, spec, false), 'appendRoute', describeRoute(spec));
}

/**
 * `ip route prepend` (NLM_F_CREATE, no NLM_F_EXCL): adds the route, or, for an IPv6 route that exists with the same
 * nexthop and an expiry, sets that expiry to the request's (fib6_add_rt2node) and answers EEXIST: how an expiring
 * route is refreshed in place. Another nexthop at the same dst and metric becomes an IPv6 ECMP sibling.
 */
export function prependRoute(sock: NetlinkSocket, spec: RouteSpec): void {
  sock.ack(encodeRoute(RTM_NEWROUTE, NLM_F_CREATE, spec, false), 'prependRoute', describeRoute(spec));
}

export function deleteRoute(sock: NetlinkSocket, spec: RouteSpec): void {
  sock.ack(encodeRoute(RTM_DELROUTE, 0, spec, true), 'deleteRoute', describeRoute(spec));
}

/** Asks the kernel which route a packet would take (`ip route get`). The reply's table is the one that answered. */
export function getRoute(sock: NetlinkSocket, query: RouteQuery): Route {
  let route: Route | undefined;
  const desc = `${query.dst}${query.from ? ` from ${query.from}` : ''}${query.mark !== undefined ? ` mark 0x${query.mark.toString(16)}` : ''}`;
  sock.get(encodeRouteQuery(RTM_GETROUTE, 0, query), 'getRoute', desc, (buf, h, off, end) => {
    if (h.type === RTM_NEWROUTE) route = decodeRoute(buf, off, end);
  });
  if (!route) throw new Error(`getRoute ${desc}: no reply`);
  return route;
}
