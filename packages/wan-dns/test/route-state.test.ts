/** routeState over a RouteCache loaded from a synthetic dump: what a marked query to each upstream would do. */
import type { Address, Link, Route, Rule } from '@meshwan/netlink';
import { RouteCache } from '@meshwan/netlink';
import t from 'tap';
import { formatRoute, routeChange, routeState, routeText } from '../src/route-state.js';

function link(index: number, name: string, up = true, carrier = true): Link {
  return {
    index,
    name,
    adminUp: up,
    carrier,
    operstate: up ? 'up' : 'down',
    mtu: 1500,
    linkType: 1,
    address: '',
    broadcast: '',
    flags: 0,
    unknown: [],
  };
}

function route(r: Partial<Route> & Pick<Route, 'dst' | 'dstLength'>): Route {
  return {
    family: r.dst.includes(':') ? 6 : 4,
    table: 254,
    type: 'unicast',
    srcLength: 0,
    tos: 0,
    metric: 0,
    protocol: 4,
    scope: 0,
    flags: 0,
    unknown: [],
    ...r,
  };
}

function rule(r: Partial<Rule> & Pick<Rule, 'priority'>): Rule {
  return {
    family: 4,
    action: 'lookup',
    table: 254,
    srcLength: 0,
    dstLength: 0,
    invert: false,
    tos: 0,
    protocol: 0,
    flags: 0,
    unknown: [],
    ...r,
  };
}

const address: Address = {
  family: 4,
  index: 2,
  address: '192.0.2.2',
  prefixLength: 24,
  scope: 'global',
  flags: 0,
  flagNames: [],
  preferredLifetimeSeconds: 0xffffffff,
  validLifetimeSeconds: 0xffffffff,
  unknown: [],
};

function cache(routes: Route[], rules: Rule[] = [], links: Link[] = [link(1, 'lo'), link(2, 'wan0'), link(3, 'wwan0')]): RouteCache {
  const c = new RouteCache();
  c.load({
    links,
    addresses: [address],
    routes,
    rules: [
      rule({ priority: 0, table: 255 }),
      rule({ priority: 1000, fwmark: 0x1, fwmask: 0x1, table: 1 }),
      ...rules,
      rule({ priority: 32766, table: 254 }),
      rule({ priority: 32767, table: 253 }),
    ].sort((a, b) => a.priority - b.priority),
  });
  return c;
}

const server = { address: '198.51.100.53', port: 53, family: 4 as const };
const floor = route({ dst: '0.0.0.0', dstLength: 0, table: 1, type: 'unreachable', metric: 65535 });
const mainDefault = route({ dst: '0.0.0.0', dstLength: 0, gateway: '203.0.113.1', oif: 3 });

t.test('the marked lookup: longest prefix in table 1, never main', async (t) => {
  const c = cache([floor, mainDefault, route({ dst: '198.51.100.53', dstLength: 32, table: 1, gateway: '192.0.2.1', oif: 2 })]);
  const s = routeState(c, server, 0x1);
  t.match(s, { reachable: true, verdict: 'route', dev: 'wan0', table: 1, gateway: '192.0.2.1', rulePriority: 1000 });
  t.equal(formatRoute(s), 'reachable via 192.0.2.1 dev wan0 in table 1 (rule 1000)');
  const floorOnly = routeState(cache([floor, mainDefault]), server, 0x1);
  t.match(floorOnly, { reachable: false, verdict: 'unreachable', table: 1 });
  t.equal(floorOnly.reason, 'unreachable default metric 65535 in table 1 (rule 1000) (EHOSTUNREACH)');
  t.match(routeState(cache([floor, mainDefault]), server, 0x0), { reachable: true, dev: 'wwan0', table: 254 }, 'unmarked: main');
});

t.test('unreachable host route, prohibit rule, blackhole, no route at all', async (t) => {
  const hostUnreachable = route({ dst: '198.51.100.53', dstLength: 32, table: 1, type: 'unreachable' });
  const viaDefault = route({ dst: '0.0.0.0', dstLength: 0, table: 1, gateway: '192.0.2.1', oif: 2 });
  t.match(routeState(cache([viaDefault, hostUnreachable]), server, 0x1), {
    reachable: false,
    verdict: 'unreachable',
    reason: 'unreachable 198.51.100.53/32 in table 1 (rule 1000) (EHOSTUNREACH)',
  });
  const prohibit = rule({ priority: 900, action: 'prohibit', table: 0, fwmark: 0x1, fwmask: 0x1 });
  t.match(routeState(cache([viaDefault], [prohibit]), server, 0x1), {
    reachable: false,
    verdict: 'prohibit',
    reason: /^prohibit rule.*\(EACCES\)$/,
  });
  const blackhole = route({ dst: '198.51.100.0', dstLength: 24, table: 1, type: 'blackhole' });
  t.match(routeState(cache([viaDefault, blackhole]), server, 0x1), { reachable: false, verdict: 'blackhole' });
  t.match(routeState(cache([]), server, 0x1), { reachable: false, reason: /^no route/ });
  t.match(routeState(cache([]), { address: 'not-an-ip', port: 53, family: 4 }, 0x1), { reachable: false, verdict: 'error' });
});

t.test('links: down or without carrier is unreachable; multipath needs one live nexthop', async (t) => {
  const viaWan = route({ dst: '0.0.0.0', dstLength: 0, table: 1, gateway: '192.0.2.1', oif: 2 });
  const noCarrier = [link(1, 'lo'), link(2, 'wan0', true, false), link(3, 'wwan0')];
  t.match(routeState(cache([viaWan], [], noCarrier), server, 0x1), { reachable: false, verdict: 'linkdown', reason: /link down$/ });
  const multipath = route({
    dst: '0.0.0.0',
    dstLength: 0,
    table: 1,
    nexthops: [
      { gateway: '192.0.2.1', oif: 2, weight: 3, flags: 0 },
      { gateway: '203.0.113.1', oif: 3, weight: 1, flags: 0 },
    ],
  });
  t.match(routeState(cache([multipath], [], noCarrier), server, 0x1), { reachable: true, dev: 'wan0,wwan0' });
  const bothDown = [link(1, 'lo'), link(2, 'wan0', false), link(3, 'wwan0', true, false)];
  t.match(routeState(cache([multipath], [], bothDown), server, 0x1), { reachable: false, verdict: 'linkdown' });
  const dead = route({ dst: '0.0.0.0', dstLength: 0, table: 1, gateway: '192.0.2.1', oif: 2, flags: 16 });
  t.match(routeState(cache([dead]), server, 0x1), { reachable: false, verdict: 'linkdown' });
});

t.test('changes between evaluations', async (t) => {
  const up = { reachable: true, verdict: 'route', reason: 'dev wan0', dev: 'wan0', source: '192.0.2.2' };
  const down = { reachable: false, verdict: 'unreachable', reason: 'no route' };
  t.equal(routeChange(undefined, up), undefined, 'first evaluation, reachable: nothing to do');
  t.equal(routeChange(undefined, down), 'lost', 'first evaluation, unreachable: down from the start');
  t.equal(routeChange(up, down), 'lost');
  t.equal(routeChange(down, down), undefined);
  t.equal(routeChange(down, up), 'back');
  t.equal(routeChange(up, { ...up }), undefined);
  t.equal(routeChange(up, { ...up, source: '203.0.113.18' }), 'moved', 'another source');
  t.equal(routeChange(up, { ...up, dev: 'wwan0' }), 'moved', 'another device');
  t.equal(formatRoute({ ...up, source: undefined }), 'reachable dev wan0');
  t.equal(formatRoute(down), 'unreachable: no route');
  t.equal(routeText(route({ dst: '2001:db8::', dstLength: 32, metric: 1024 })), '2001:db8::/32 metric 1024');
});
