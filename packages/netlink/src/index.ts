/**
 * @packageDocumentation
 * @meshwan/netlink: typed rtnetlink (links, addresses, routes, rules), a route cache that answers like the
 * kernel, and a monitor that keeps it in step. The only package in meshwan that speaks rtnetlink.
 */

export { addressKey, type ChangeType, type ObjectEvent, RouteCache, routeKey, ruleKey, type Snapshot } from './cache.js';
export { type AddressRequest, type Dev, Netlink, type RouteQueryRequest, type RouteRequest } from './client.js';
export { type Address, type AddressSpec, FOREVER } from './codec/address.js';
export { familyNamed, familyNames, type RouteType, type RuleAction } from './codec/constants.js';
export { formatIp, parseIp, parsePrefix } from './codec/ip.js';
export type { Link } from './codec/link.js';
export type { RawAttribute } from './codec/message.js';
export type { Nexthop, NexthopSpec, Route, RouteQuery, RouteSpec } from './codec/route.js';
export type { Rule, RuleSpec } from './codec/rule.js';
export { AddonError, DecodeError, errnoName, NetlinkError, RequestError } from './errors.js';
export { familyWords } from './format.js';
export type { LookupOptions, LookupResult, OutputLookup, Verdict } from './lookup.js';
export { MONITOR_GROUPS, Monitor, type MonitorEvent, type MonitorOptions } from './monitor.js';
export type { RouteFilter } from './routes.js';
export { dumpAll } from './snapshot.js';
export { NetlinkSocket, type SocketOptions } from './socket.js';
