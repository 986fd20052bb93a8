/** A full dump of what the cache holds, over a request socket. */

import { listAddresses } from './addresses.js';
import type { Snapshot } from './cache.js';
import { listLinks } from './links.js';
import { listRoutes } from './routes.js';
import { listRules } from './rules.js';
import type { NetlinkSocket } from './socket.js';

export function dumpAll(sock: NetlinkSocket): Snapshot {
  return { links: listLinks(sock), addresses: listAddresses(sock), routes: listRoutes(sock), rules: listRules(sock) };
}
