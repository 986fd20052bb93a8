/**
 * Netlink: one request socket with the typed calls for links, addresses, routes and rules. Device names in specs
 * are resolved to interface indexes here (RTM_GETLINK), so codecs stay pure.
 */

import type { IpFamily } from '@meshwan/os';
import * as addresses from './addresses.js';
import type { Address, AddressSpec } from './codec/address.js';
import type { Link } from './codec/link.js';
import type { Route, RouteQuery, RouteSpec } from './codec/route.js';
import type { Rule, RuleSpec } from './codec/rule.js';
import * as links from './links.js';
import * as routes from './routes.js';
import * as rules from './rules.js';
import { NetlinkSocket, type SocketOptions } from './socket.js';

/** A device as an interface index or a name. */
export type Dev = number | string;
export type RouteRequest = Omit<RouteSpec, 'dev' | 'nexthops'> & {
  dev?: Dev;
  nexthops?: { gateway?: string; dev?: Dev; weight?: number; onlink?: boolean }[];
};
export type AddressRequest = Omit<AddressSpec, 'index'> & { dev: Dev };
export type RouteQueryRequest = Omit<RouteQuery, 'iif' | 'oif'> & { iif?: Dev; oif?: Dev };

export class Netlink {
  private constructor(readonly socket: NetlinkSocket) {}

  /** Opens a NETLINK_ROUTE socket (in `options.netns` when given). Throws NetlinkError or AddonError. */
  static open(options: SocketOptions = {}): Netlink {
    return new Netlink(NetlinkSocket.open(options));
  }

  close(): void {
    this.socket.close();
  }

  /** Interface index of a device name (a number passes through). Throws NetlinkError ENODEV. */
  ifindex(dev: Dev): number {
    return typeof dev === 'number' ? dev : links.getLink(this.socket, dev).index;
  }

  listLinks(): Link[] {
    return links.listLinks(this.socket);
  }
  getLink(dev: Dev): Link {
    return links.getLink(this.socket, dev);
  }

  listAddresses(family?: IpFamily): Address[] {
    return addresses.listAddresses(this.socket, family);
  }
  private addressSpec(req: AddressRequest): AddressSpec {
    const { dev, ...rest } = req;
    return { ...rest, index: this.ifindex(dev) };
  }
  addAddress(req: AddressRequest): void {
    addresses.addAddress(this.socket, this.addressSpec(req));
  }
  replaceAddress(req: AddressRequest): void {
    addresses.replaceAddress(this.socket, this.addressSpec(req));
  }
  deleteAddress(req: AddressRequest): void {
    addresses.deleteAddress(this.socket, this.addressSpec(req));
  }

  listRoutes(filter?: routes.RouteFilter): Route[] {
    return routes.listRoutes(this.socket, filter);
  }
  /** listRoutes without the list: each route visited as read, in one reused object. True when interrupted. */
  streamRoutes(filter: routes.RouteFilter, visit: (route: Route) => void): boolean {
    return routes.streamRoutes(this.socket, filter, visit);
  }
  private routeSpec(req: RouteRequest): RouteSpec {
    const { dev, nexthops, ...rest } = req;
    const spec: RouteSpec = { ...rest };
    if (dev !== undefined) spec.dev = this.ifindex(dev);
    if (nexthops) spec.nexthops = nexthops.map(({ dev: d, ...nh }) => (d === undefined ? nh : { ...nh, dev: this.ifindex(d) }));
    return spec;
  }
  addRoute(req: RouteRequest): void {
    routes.addRoute(this.socket, this.routeSpec(req));
  }
  replaceRoute(req: RouteRequest): void {
    routes.replaceRoute(this.socket, this.routeSpec(req));
  }
  appendRoute(req: RouteRequest): void {
    routes.appendRoute(this.socket, this.routeSpec(req));
  }
  prependRoute(req: RouteRequest): void {
    routes.prependRoute(this.socket, this.routeSpec(req));
  }
  deleteRoute(req: RouteRequest): void {
    routes.deleteRoute(this.socket, this.routeSpec(req));
  }
  /** The kernel's answer for one destination (`ip route get`); reject answers throw NetlinkError (ENETUNREACH...). */
  getRoute(req: RouteQueryRequest): Route {
    const { iif, oif, ...rest } = req;
    const q: RouteQuery = { ...rest };
    if (iif !== undefined) q.iif = this.ifindex(iif);
    if (oif !== undefined) q.oif = this.ifindex(oif);
    return routes.getRoute(this.socket, q);
  }

  listRules(family?: IpFamily): Rule[] {
    return rules.listRules(this.socket, family);
  }
  addRule(spec: RuleSpec): void {
    rules.addRule(this.socket, spec);
  }
  replaceRule(spec: RuleSpec): void {
    rules.replaceRule(this.socket, spec);
  }
  deleteRule(spec: RuleSpec): void {
    rules.deleteRule(this.socket, spec);
  }
}
