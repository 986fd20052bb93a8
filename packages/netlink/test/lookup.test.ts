// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * Property test: random tables, rules and routes in a namespace; thousands of random lookups answered by our
 * RouteCache and by the kernel (RTM_GETROUTE, what `ip route get` sends); a sample is also run through `ip route get`.
 */
import type { IpFamily } from '@meshwan/os';
import t from 'tap';
import type { Namespace } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { type LookupResult, type Netlink, NetlinkError, type Route, RouteCache, type RouteRequest, type RuleSpec } from '../src/index.js';
import { fixture, missingPart } from './helpers.js';
import { prng } from './random.js';

const seed = Number(process.env.NETLINK_SEED ?? Date.now() % 1_000_000);
const rnd = prng(seed);
const TABLES = [254, 1, 2, 3, 1000, 100000];
const hex4 = () => rnd.int(0x10000).toString(16);

function v6Address(): string {
  // a small address space so prefixes nest and overlap: 2001:db8:X:Y::Z
  return `2001:db8:${rnd.pick(['0', '1', '2', 'a', 'b', hex4()])}:${rnd.pick(['0', '1', hex4()])}::${rnd.pick(['1', '2', hex4()])}`;
}
function v4Address(): string {
  return `${rnd.pick(['192.0.2', '198.51.100', '203.0.113'])}.${rnd.pick([0, 1, 2, 64, 128, 200, rnd.int(256)])}`;
}
function randomPrefix(family: IpFamily): string {
  if (family === 6) return `${v6Address()}/${rnd.pick([0, 16, 32, 33, 40, 48, 52, 56, 64, 65, 96, 128])}`;
  return `${v4Address()}/${rnd.pick([0, 8, 16, 23, 24, 25, 26, 28, 30, 32])}`;
}

function setUp(ns: Namespace, nl: Netlink, family: IpFamily): void {
  const gw = family === 6 ? ['2001:db8:a::2', '2001:db8:a::3', '2001:db8:c::2'] : ['192.0.2.2', '192.0.2.3', '198.51.100.2'];
  const seen = new Set<string>();
  for (let i = 0; i < 150; i++) {
    const dst = randomPrefix(family);
    const table = rnd.pick(TABLES);
    const type = rnd.pick(['unicast', 'unicast', 'unicast', 'unreachable', 'prohibit', 'blackhole', 'throw'] as const);
    const req: RouteRequest = { dst, family, table, type, metric: rnd.pick([1, 5, 100, 1024]) };
    if (type === 'unicast') {
      if (rnd.chance(0.15)) req.nexthops = [{ gateway: gw[0] }, { gateway: gw[2] }];
      else if (rnd.chance(0.6)) req.gateway = rnd.pick(gw);
      else req.dev = rnd.pick(['va', 'vc']);
    }
    // one route per prefix and table: same-metric routes through different devices are picked round-robin by IPv6
    const canonical = `${table}|${dst}`;
    if (seen.has(canonical)) continue;
    seen.add(canonical);
    try {
      nl.addRoute(req);
    } catch (err: unknown) {
      if (!(err instanceof NetlinkError)) throw err;
    }
  }
  const priorities = new Set<number>();
  for (let i = 0; i < 20; i++) {
    let priority = 1 + rnd.int(32000);
    while (priorities.has(priority)) priority++;
    priorities.add(priority);
    const spec: RuleSpec = { family, priority };
    if (rnd.chance(0.3)) {
      spec.fwmark = rnd.pick([1, 2, 4, 6]);
      if (rnd.chance(0.6)) spec.fwmask = rnd.pick([1, 3, 0xff]);
    }
    if (rnd.chance(0.25)) spec.to = randomPrefix(family);
    if (rnd.chance(0.2))
      spec.from =
        family === 6 ? rnd.pick(['2001:db8:a::/48', '2001:db8:b::1/128', '2001:db8::/32']) : rnd.pick(['192.0.2.0/24', '198.51.100.1/32']);
    if (rnd.chance(0.15)) spec.iif = rnd.pick(['lo', 'va', 'ghost0']);
    // most rules select something, so lookups walk past several of them
    if (spec.fwmark === undefined && spec.to === undefined && spec.from === undefined && spec.iif === undefined && rnd.chance(0.8)) {
      if (rnd.chance(0.5)) spec.to = randomPrefix(family).replace(/\/(0|8|16)$/, family === 6 ? '/48' : '/24');
      else spec.fwmark = rnd.pick([1, 2, 4, 6]);
    }
    if (rnd.chance(0.1)) spec.invert = true;
    const action = rnd.int(20);
    if (action < 12) {
      spec.table = rnd.pick(TABLES);
      if (rnd.chance(0.25)) spec.suppressPrefixLength = rnd.pick([0, 24, 32, 48, 64]);
    } else if (action < 15) spec.goto = priority + 1 + rnd.int(32766 - priority - 1);
    else spec.action = rnd.pick(['unreachable', 'prohibit', 'blackhole', 'nop'] as const);
    if (spec.goto !== undefined && spec.goto <= priority) continue;
    try {
      nl.addRule(spec);
    } catch (err: unknown) {
      if (!(err instanceof NetlinkError)) throw err;
    }
  }
  void ns;
}

/**
 * A source for an output lookup: mostly this host's own addresses, else a foreign one, which the kernel refuses
 * for IPv4 before the rule walk (ENETUNREACH; EINVAL for multicast, broadcast, or 127/8 leaving through a
 * non-loopback device) and IPv6 walks the rules with.
 */
function randomSource(family: IpFamily, locals: readonly string[]): string {
  if (rnd.chance(0.5)) return rnd.pick(locals);
  if (family === 6) return rnd.chance(0.8) ? v6Address() : rnd.pick(['::1', 'fe80::1', '2001:db8:a::99']);
  if (rnd.chance(0.6)) return v4Address();
  return rnd.pick(['127.0.0.1', '127.1.2.3', '224.0.0.5', '255.255.255.255', '0.1.2.3', '192.0.2.99']);
}

/** Whether our answer is the kernel's: the same errno, or the same table and type and (unicast) nexthop. */
function agrees(ours: LookupResult, theirs: Route | NetlinkError): boolean {
  if (theirs instanceof NetlinkError) return ours.code === theirs.code;
  const r = ours.route;
  if (!(ours.verdict === 'route' && r !== undefined && ours.table === theirs.table && r.type === theirs.type)) return false;
  if (theirs.type !== 'unicast') return true;
  const hops = r.nexthops ?? [{ gateway: r.gateway, oif: r.oif ?? 0 }];
  return hops.some((h) => h.gateway === theirs.gateway && h.oif === theirs.oif);
}

function describe(r: Route): string {
  return `${r.type} table ${r.table} gw ${r.gateway ?? '-'} oif ${r.oif ?? '-'}`;
}

requireParts(missingPart);

t.test(`RouteCache.lookup agrees with the kernel on random setups (seed ${seed})`, async (t) => {
  const { ns, nl } = fixture(t, 'prop');
  ns.ip('link', 'add', 'vc', 'type', 'veth', 'peer', 'name', 'vd');
  ns.ip('link', 'set', 'vc', 'up');
  ns.ip('link', 'set', 'vd', 'up');
  ns.ip('-6', 'addr', 'add', '2001:db8:a::1/64', 'dev', 'va', 'nodad');
  ns.ip('-6', 'addr', 'add', '2001:db8:b::1/64', 'dev', 'vb', 'nodad');
  ns.ip('-6', 'addr', 'add', '2001:db8:c::1/64', 'dev', 'vc', 'nodad');
  ns.ip('addr', 'add', '198.51.100.1/24', 'dev', 'vc');
  const locals: Record<IpFamily, string[]> = {
    6: ['2001:db8::1', '2001:db8:a::1', '2001:db8:b::1', '2001:db8:c::1'],
    4: ['192.0.2.1', '198.51.100.1'],
  };
  for (const family of [4, 6] as const) setUp(ns, nl, family);

  const cache = new RouteCache();
  cache.load({ links: nl.listLinks(), addresses: nl.listAddresses(), routes: nl.listRoutes(), rules: nl.listRules() });
  let compared = 0;
  let mismatches = 0;
  const verdicts: Record<string, number> = {};
  const samples: { argv: string[]; expect: string }[] = [];
  for (let i = 0; i < 3000; i++) {
    const family: IpFamily = rnd.chance(0.5) ? 6 : 4;
    const dst = family === 6 ? v6Address() : v4Address();
    const mark = rnd.pick([0, 0, 1, 2, 3, 4, 6, 0xff]);
    const src = rnd.chance(0.45) ? randomSource(family, locals[family]) : undefined;
    const ours = cache.lookup(dst, { mark, src });
    let theirs: Route | NetlinkError;
    try {
      theirs = nl.getRoute({ dst, mark, from: src });
    } catch (err: unknown) {
      if (!(err instanceof NetlinkError)) throw err;
      theirs = err;
    }
    compared++;
    const v = `${ours.verdict}${ours.code ? `/${ours.code}` : ''}${ours.table !== undefined ? `@${ours.table}` : ''}`;
    verdicts[v] = (verdicts[v] ?? 0) + 1;
    const ok = agrees(ours, theirs);
    if (!ok) {
      mismatches++;
      if (mismatches <= 10)
        t.fail(
          `${dst} mark ${mark} from ${src ?? '-'}: kernel ${theirs instanceof NetlinkError ? theirs.code : describe(theirs)}, cache ${ours.verdict} ${ours.code ?? ''} rule ${ours.rule?.priority} ${ours.route ? describe(ours.route) : ''}`,
        );
    }
    if (samples.length < 40 && i % 50 === 0)
      samples.push({
        argv: ['route', 'get', dst, 'mark', String(mark), ...(src ? ['from', src] : [])],
        expect: ours.code ?? `table ${ours.table}`,
      });
  }
  // the input path (`ip route get DST iif DEV from SRC`), IPv6 only: IPv4 input also depends on forwarding,
  // rp_filter and martian checks, which the cache does not hold. Link-local and loopback destinations exercise
  // the strict device match; multicast ones are left out (the kernel answers them through multicast routing).
  let inputMismatches = 0;
  for (let i = 0; i < 1000; i++) {
    const dst = rnd.chance(0.3) ? rnd.pick(['fe80::1', 'fe80::abcd', 'fe80::1:2', '::1']) : v6Address();
    const mark = rnd.pick([0, 0, 1, 2, 3, 4, 6, 0xff]);
    const src = v6Address();
    const iif = rnd.pick(['va', 'vb', 'vc', 'vd']);
    const ours = cache.lookup(dst, { mark, src, iif });
    let theirs: Route | NetlinkError;
    try {
      theirs = nl.getRoute({ dst, mark, from: src, iif });
    } catch (err: unknown) {
      if (!(err instanceof NetlinkError)) throw err;
      theirs = err;
    }
    if (i % 100 === 0)
      samples.push({
        argv: ['route', 'get', dst, 'iif', iif, 'from', src, 'mark', String(mark)],
        expect: ours.code ?? `table ${ours.table}`,
      });
    if (!agrees(ours, theirs)) {
      inputMismatches++;
      if (inputMismatches <= 10)
        t.fail(
          `${dst} iif ${iif} mark ${mark} from ${src}: kernel ${theirs instanceof NetlinkError ? theirs.code : describe(theirs)}, cache ${ours.verdict} ${ours.code ?? ''} rule ${ours.rule?.priority} ${ours.route ? describe(ours.route) : ''}`,
        );
    }
  }
  t.equal(inputMismatches, 0, `1000 IPv6 input lookups (iif), ${inputMismatches} differ from the kernel (seed ${seed})`);
  t.comment(`verdicts: ${JSON.stringify(verdicts)}`);
  t.ok(Object.keys(verdicts).length >= 5, 'the random setups exercise several outcomes');
  t.equal(mismatches, 0, `${compared} lookups, ${mismatches} differ from the kernel (seed ${seed})`);
  // the same answers from iproute2 itself
  const errorText: Record<string, RegExp> = {
    ENETUNREACH: /Network is unreachable/,
    EHOSTUNREACH: /No route to host/,
    EACCES: /Permission denied/,
    EINVAL: /Invalid argument/,
  };
  for (const s of samples) {
    const family = s.argv[2]?.includes(':') ? '-6' : '-4';
    const res = ns.try('ip', family, ...s.argv);
    if (s.expect.startsWith('table')) {
      t.equal(res.status, 0, `ip ${s.argv.join(' ')}`);
      const table = s.expect.slice(6);
      const named = table === '254' ? '' : table === '255' ? 'table local' : `table ${table}`;
      if (named) t.match(res.stdout, named, `ip ${s.argv.join(' ')} answers from ${named}`);
    } else t.match(res.stderr, errorText[s.expect] ?? /./, `ip ${s.argv.join(' ')}: ${s.expect}`);
  }
});

/**
 * The kernel's own second lookup as witness: an unbound UDP socket's connect() runs ip6_dst_lookup_tail, so the
 * address it ends up bound to (or the errno) is the source the kernel picked and whether the retry found a route.
 */
function connectWitness(ns: Namespace, dst: string): string {
  const script = `const s = require('node:dgram').createSocket('udp6');
s.on('error', (e) => { console.log('ERR ' + e.code); process.exit(0); });
s.connect(53, ${JSON.stringify(dst)}, (e) => { console.log(e ? 'ERR ' + e.code : 'OK ' + s.address().address); s.close(); });`;
  return ns.exec(process.execPath, '-e', script).trim();
}

t.test('lookupOutput retries an IPv6 lookup with the source the kernel picks (gluon #520)', async (t) => {
  const { ns, nl } = fixture(t, 'out');
  // the WAN: vc with 2001:db8:1::5, its prefix and default in table 1 only; main has the mesh (va) alone
  ns.ip('link', 'add', 'vc', 'type', 'veth', 'peer', 'name', 'vd');
  ns.ip('link', 'set', 'vc', 'up');
  ns.ip('link', 'set', 'vd', 'up');
  ns.ip('-6', 'addr', 'add', '2001:db8:1::5/64', 'dev', 'vc', 'nodad', 'noprefixroute');
  ns.ip('-6', 'route', 'add', '2001:db8:1::/64', 'dev', 'vc', 'table', '1');
  ns.ip('-6', 'route', 'add', 'default', 'via', '2001:db8:1::1', 'dev', 'vc', 'table', '1');
  ns.ip('-6', 'rule', 'add', 'from', '2001:db8:1::5', 'lookup', '1', 'pref', '10000');
  const dst = '2001:db8:1:9::1'; // shares a /48 with the WAN address, so source selection picks it
  const load = () => {
    const cache = new RouteCache();
    cache.load({ links: nl.listLinks(), addresses: nl.listAddresses(), routes: nl.listRoutes(), rules: nl.listRules() });
    return cache;
  };

  const open = load().lookupOutput(dst);
  t.equal(open[0]?.result.code, 'ENETUNREACH', 'the first lookup (no source) finds nothing in main');
  t.match(ns.try('ip', '-6', 'route', 'get', dst).stderr, /Network is unreachable/, 'ip route get agrees: no route without a source');
  const retry = open.find((o) => o.src === '2001:db8:1::5');
  t.equal(retry?.result.verdict, 'route', 'the retry with the WAN address finds a route');
  t.equal(retry?.result.table, 1, '... in table 1');
  t.equal(retry?.result.rule?.priority, 10000, "... through netifd's `from ADDR lookup 1`");
  t.match(ns.ip('-6', 'route', 'get', dst, 'from', '2001:db8:1::5'), /table 1/, 'ip route get from the WAN address agrees');
  t.equal(connectWitness(ns, dst), 'OK 2001:db8:1::5', "the kernel's connect() took that very path: bound to the WAN address");
  t.same(
    open.map((o) => o.src).sort(),
    [undefined, '2001:db8::1', '2001:db8:1::5'].sort(),
    'without sources given, every global address is a candidate',
  );
  t.same(
    load()
      .lookupOutput(dst, {}, ['2001:db8::1'])
      .map((o) => o.src),
    [undefined, '2001:db8::1'],
    'given sources replace the candidates',
  );
  t.equal(load().lookupOutput(dst, { src: '2001:db8:1::5' }).length, 1, 'a bound source is one lookup');
  t.equal(load().lookupOutput('192.0.2.77').length, 1, 'IPv4 has no retry');

  // the gate: unmarked packets may use main and nothing after it
  ns.ip('-6', 'rule', 'add', 'not', 'fwmark', '0x1/0x1', 'lookup', 'main', 'pref', '9000');
  ns.ip('-6', 'rule', 'add', 'not', 'fwmark', '0x1/0x1', 'unreachable', 'pref', '9001');
  const gated = load().lookupOutput(dst);
  t.ok(
    gated.length === 3 && gated.every((o) => o.result.verdict === 'unreachable' && o.result.rule?.priority === 9001),
    'behind the gate every retry ends at 9001',
  );
  t.equal(connectWitness(ns, dst), 'ERR ENETUNREACH', "the kernel's connect() fails too");

  // a marked packet that table 1 routes needs no retry
  ns.ip('-6', 'rule', 'add', 'fwmark', '0x1/0x1', 'lookup', '1', 'pref', '1');
  const marked = load().lookupOutput(dst, { mark: 1 });
  t.equal(marked.length, 1, 'a routed first lookup is the only one');
  t.equal(marked[0]?.result.table, 1, '... in table 1');
  t.match(ns.ip('-6', 'route', 'get', dst, 'mark', '1'), /table 1/, 'ip route get agrees');
});
