// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The daemon puts back the WAN routes it moved when they vanish from table 1: a hand flush of table 1 (both
 * families), and a netlink flood that overruns the monitor (ENOBUFS, then a resync) and takes the IPv6 WAN default
 * with it. Waits are for the kernel state (and the daemon's log lines), never fixed sleeps.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { isRoot, stopProcess, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { cliEnv, createNode, dualNetworkText, meshwanBin, type TestNode } from './lib/node.js';

t.setTimeout(240_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');

interface RouteJson {
  dst: string;
  type?: string;
  dev?: string;
  gateway?: string;
}

/** The WAN routes policy moves (prefixes, link-local, defaults) and the floors, as `dst via dev` per family. */
function table1(n: TestNode, family: '-4' | '-6'): string[] {
  return n.node
    .ipJson<RouteJson[]>(family, 'route', 'show', 'table', '1')
    .map(
      (r) =>
        `${r.type === 'unreachable' ? 'unreachable ' : ''}${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev && r.type !== 'unreachable' ? ` dev ${r.dev}` : ''}`,
    )
    .sort();
}

const moved4 = ['192.0.2.0/24 dev br-wan', 'default via 192.0.2.1 dev br-wan', 'unreachable default'].sort();
// The link-local prefix stays in main, as netifd leaves it (README "Link-local").
const moved6 = ['2001:db8:1::/64 dev br-wan', 'default via 2001:db8:1::1 dev br-wan', 'unreachable default'].sort();

function startDaemon(t: Test, n: TestNode, env: Record<string, string> = {}): { log: () => string; child: ChildProcess } {
  const child = n.node.spawn(t, process.execPath, [meshwanBin, 'daemon', '--root', n.root], {
    env: cliEnv({ MESHWAN_FIREWALL: 'none', ...env }),
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  t.teardown(() => {
    if (!t.passing()) t.comment(`daemon log:\n${log}`);
  });
  return { log: () => log, child };
}

t.test('daemon: a flushed table 1 gets back its floor and every moved WAN route, both families', async (t) => {
  const n = createNode(t, dualNetworkText);
  const d = startDaemon(t, n);
  await waitFor('the daemon to watch', () => d.log().includes('meshwan: watching'), 60_000);
  await waitFor(
    'the WAN routes in table 1',
    () => table1(n, '-4').join() === moved4.join() && table1(n, '-6').join() === moved6.join(),
    30_000,
  );

  const started = Date.now();
  n.node.ip('-4', 'route', 'flush', 'table', '1');
  n.node.ip('-6', 'route', 'flush', 'table', '1');
  await waitFor(
    'table 1 to be whole again',
    () => table1(n, '-4').join() === moved4.join() && table1(n, '-6').join() === moved6.join(),
    30_000,
  );
  t.comment(`restored both families within ${Date.now() - started} ms of the flush (polled every 50 ms)`);
  t.same(table1(n, '-4'), moved4);
  t.same(table1(n, '-6'), moved6);
  const main = [...n.node.ipJson<RouteJson[]>('-4', 'route', 'show'), ...n.node.ipJson<RouteJson[]>('-6', 'route', 'show')];
  t.same(
    main.filter((r) => r.dev === 'br-wan').map((r) => r.dst),
    ['fe80::/64'],
    'main stays free of WAN routes but the link-local prefix',
  );
  await waitFor('the repairs to be logged', () => /repair: add route default via 2001:db8:1::1 dev br-wan table 1/.test(d.log()));
  t.match(d.log(), /repair: add route 192\.0\.2\.0\/24 dev br-wan table 1 proto static/);
  t.match(d.log(), /repair: add route default via 192\.0\.2\.1 dev br-wan table 1/);

  // The record follows the kernel: a WAN link going down forgets the moved routes (the kernel flushed them, netifd
  // re-adds to main on up), so they are not resurrected on a dead link.
  n.node.ip('link', 'set', 'br-wan', 'down');
  await waitFor('the moved routes to be gone with the link', () => !table1(n, '-6').some((r) => r.includes('br-wan')), 30_000);
  await waitFor(
    'the record to forget them',
    () => d.log().includes('repair:') && !table1(n, '-4').some((r) => r.includes('br-wan')),
    30_000,
  );
  t.same(table1(n, '-6'), ['unreachable default'], 'nothing put back through a down link');

  await stopProcess(d.child);
});

t.test('daemon: after a flood overruns the monitor, the kernel is the truth: the IPv6 WAN default comes back', async (t) => {
  const n = createNode(t, dualNetworkText);
  // The WAN default as an RA installs it: via the router's link-local address, proto ra.
  n.node.ip('-6', 'route', 'del', 'default', 'via', '2001:db8:1::1', 'dev', 'br-wan');
  n.node.ip('-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'br-wan', 'proto', 'ra', 'metric', '1024');
  const ra6 = moved6.map((r) => r.replace('via 2001:db8:1::1', 'via fe80::1')).sort();
  // A 16 KiB monitor buffer (instead of 32 MiB) makes the overrun certain with 20,000 routes on a busy machine;
  // the path is the real one: ENOBUFS, discard, quiet, re-dump, `resynced`.
  const routes = Number(process.env.MESHWAN_FLOOD_ROUTES ?? 20_000);
  const d = startDaemon(t, n, process.env.MESHWAN_FLOOD_ROUTES ? {} : { MESHWAN_MONITOR_RCVBUF: String(16 * 1024) });
  await waitFor('the daemon to watch', () => d.log().includes('meshwan: watching'), 60_000);
  await waitFor('the WAN routes in table 1', () => table1(n, '-6').join() === ra6.join(), 30_000);

  const lines: string[] = [];
  for (let i = 0; i < routes; i++) {
    lines.push(`route add fd00:ff:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64 dev mesh0 proto 99`);
    if (i === routes >> 1) lines.push('route del ::/0 via fe80::1 dev br-wan table 1');
  }
  const batch = join(n.root, 'flood.batch');
  writeFileSync(batch, `${lines.join('\n')}\n`);
  const started = Date.now();
  n.node.ip('-batch', batch);
  n.node.ip('-6', 'route', 'flush', 'proto', '99');
  t.comment(`flood of ${routes} adds and ${routes} deletes took ${Date.now() - started} ms`);
  await waitFor('the monitor to resync', () => /monitor: events lost \(ENOBUFS\), resynced/.test(d.log()), 120_000);
  await waitFor('the IPv6 WAN default back in table 1', () => table1(n, '-6').join() === ra6.join(), 60_000);
  t.comment(`IPv6 WAN default back ${Date.now() - started} ms after the flood started`);
  t.same(table1(n, '-6'), ra6);

  // The next RA puts the same default into main: it moves (the add finds that very route, EEXIST) and nothing is lost.
  n.node.ip('-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'br-wan', 'proto', 'ra', 'metric', '1024');
  await waitFor('the RA default to leave main', () => !n.node.ip('-6', 'route', 'show', 'default').includes('br-wan'), 30_000);
  t.same(table1(n, '-6'), ra6, 'table 1 keeps the WAN default');
  t.equal(n.node.ip('-6', 'route', 'show', 'proto', '99'), '', 'the flood is gone');

  await stopProcess(d.child);
});
