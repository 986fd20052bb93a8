import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSite } from '@meshwan/site';
import t from 'tap';
import type { Context } from '../src/config.js';
import { newRule } from '../src/model.js';
import { parseNetwork } from '../src/network.js';
import { readRepairs, writeRepairs } from '../src/repairs.js';
import { parseProcNet } from '../src/sockets.js';
import { buildStatus, readUpstreams, renderStatus } from '../src/status.js';
import { assessUplinks, noUplinks } from '../src/uplinks.js';
import { gluonNetwork, split } from './lib/fixtures.js';

t.test('status: one screen from kernel, sockets, firewall and the repair log', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'meshwan-status-'));
  mkdirSync(join(root, 'var/gluon/wan-dnsmasq'), { recursive: true });
  writeFileSync(join(root, 'var/gluon/wan-dnsmasq/resolv.conf'), 'nameserver 192.0.2.1\nnameserver fe80::1%br-wan\n# x\n');
  t.same(readUpstreams(root), ['192.0.2.1', 'fe80::1%br-wan']);
  const stateDir = join(root, 'run');
  t.same(readRepairs(stateDir), []);
  writeRepairs(stateDir, [{ at: '2026-01-01T00:00:00.000Z', change: 'add rule 9001: x' }]);
  const repairs = readRepairs(stateDir);
  t.equal(repairs.length, 1);
  const ctx: Context = {
    paths: { root, network: '', rtTables: '', stateDir, uplinksConfig: '', uplinksStatus: '', watched: [] },
    settings: defaultSite(),
    split,
    network: parseNetwork(gluonNetwork),
    uplinks: noUplinks,
  };
  const notConfigured = assessUplinks({ view: noUplinks, file: 'x.json', text: undefined, now: new Date(), alive: () => true });
  const kernel = {
    links: [
      { name: 'lo', ifindex: 1, up: true },
      { name: 'br-wan', ifindex: 2, up: true },
    ],
    addresses: [{ dev: 'br-wan', family: 6 as const, address: '2001:db8:1::5', len: 64 }],
    rules: [newRule({ family: 6, priority: 1, action: 'lookup', table: 1, fwmark: 1, fwmask: 1, protocol: 4 })],
    routes: [
      {
        family: 6 as const,
        table: 1,
        dst: { family: 6 as const, addr: 0n, len: 0 },
        type: 'unreachable' as const,
        metric: 65535,
        protocol: 4,
      },
    ],
  };
  const sockets = parseProcNet('hdr\n 0: 0100007F:0036 00000000:0000 07 0 0 0 0 0 1 2\n', 4, 'udp');
  const s = buildStatus(ctx, kernel, sockets, { inSync: false, drift: ['missing-jump ipv4 nat OUTPUT'] }, repairs, notConfigured);
  const text = renderStatus(s);
  t.match(text, /WAN {3}br-wan \(ipv6\) up 2001:db8:1::5\/64/);
  t.match(text, /mesh {2}no default route in main/);
  t.match(text, /IPv6 1: from all fwmark 0x1\/0x1 lookup 1 proto static/);
  t.match(text, /table 1\n {2}unreachable default table 1 proto static metric 65535/);
  t.match(text, /forwarder listening: udp 127.0.0.1:54; NOT listening: tcp 127.0.0.1:54, udp \[::1\]:54, tcp \[::1\]:54/);
  t.match(text, /forwarder upstreams: 192.0.2.1 fe80::1%br-wan/);
  t.match(text, /redirect: DRIFT: missing-jump/);
  t.match(text, /2026-01-01T00:00:00.000Z add rule 9001: x/);
  t.match(text, /uplinks not configured: no enabled interface in \/etc\/config\/meshwan-uplinks/);
  const empty = renderStatus(
    buildStatus({ ...ctx, network: parseNetwork([]) }, { ...kernel, routes: [] }, [], { inSync: null, drift: [] }, [], notConfigured),
  );
  t.match(empty, /no interface with ip6table/);
  t.match(empty, /\(empty\)/);
  t.match(empty, /redirect: not checked/);
  t.match(empty, /last repairs: none/);
});
