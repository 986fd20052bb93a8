// One measured dump of every route in NETNS, in a fresh process so its peak RSS is the dump's alone.
// Prints JSON: { routes, ms, cpuMs }.
import { Netlink } from '../dist/index.js';

const netns = process.argv[2];
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const nl = Netlink.open({ netns: `/run/netns/${netns}` });
const routes = nl.listRoutes({ family: 6 });
const c = process.cpuUsage(c0);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
nl.close();
process.stdout.write(JSON.stringify({ routes: routes.length, ms, cpuMs: (c.user + c.system) / 1000 }));
