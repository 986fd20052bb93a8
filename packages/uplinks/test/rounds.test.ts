import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netlink } from '@meshwan/netlink';
import t from 'tap';
import type { Teardowns } from '../../../test/lib/netns.js';
import { parseConfig } from '../src/config.js';
import { Engine } from '../src/engine.js';
import type { ProbeRequest, ProbeResult } from '../src/probe.js';
import { RoundSequencer } from '../src/rounds.js';

t.test('the sequencer releases verdicts in the order rounds were sent', async (t) => {
  const s = new RoundSequencer<string>();
  const [a, b, c] = [s.start(), s.start(), s.start()];
  t.same(s.finish(b, 'b'), [], 'b waits for a');
  t.same(s.finish(c, 'c'), [], 'c waits for a');
  t.equal(s.pending, 3);
  t.same(s.finish(a, 'a'), ['a', 'b', 'c'], 'a releases all three, oldest first');
  t.same(s.finish(a, 'again'), [], 'a round finishes once');
  t.same(s.finish(9, 'never sent'), [], 'an unknown round is ignored');
  const d = s.start();
  const e = s.start();
  t.same(s.finish(e, 'e'), []);
  t.same(s.finish(d, undefined), ['e'], 'a round without a verdict does not hold back the next');
  t.equal(s.pending, 0);
});

/** A probe driver whose answers the test hands out one by one, in any order. */
class Driver {
  readonly calls: { req: ProbeRequest; answer: (ok: boolean) => void; fail: (err: Error) => void }[] = [];
  ping = (req: ProbeRequest): Promise<ProbeResult> =>
    new Promise((resolve, reject) => {
      this.calls.push({
        req,
        answer: (ok) => resolve({ target: req.target, ok, rttMs: ok ? 1 : undefined, detail: ok ? 'rtt 1 ms' : 'no reply within 500 ms' }),
        fail: reject,
      });
    });
  answer(i: number, ok: boolean): void {
    const c = this.calls[i];
    if (c === undefined) throw new Error(`no probe ${i} in flight`);
    c.answer(ok);
  }
}

/** An engine over `lo` (always carrier) with up=3 down=2 and an injected probe driver; reads the kernel only. */
function engineWith(t: Teardowns, driver: Driver) {
  const dir = mkdtempSync(join(tmpdir(), 'uplinks-rounds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig([
    { name: 'g', type: 'globals', options: { table: '1', resolv_file: join(dir, 'resolv'), state_file: join(dir, 'lg.json') } },
    { name: 'wan', type: 'interface', options: { device: 'lo', track_ip: '2001:db8::1', up: '3', down: '2' } },
  ]);
  const nl = Netlink.open();
  t.teardown(() => nl.close());
  const logged: string[] = [];
  const engine = new Engine(nl, { config, table: 1, log: (l) => logged.push(l), probers: { ping: driver.ping } });
  engine.refresh(); // carrier of lo; nothing is written
  const u = config.uplinks[0];
  if (u === undefined) throw new Error('no uplink');
  return { engine, u, logged };
}

t.test('a late loss of an older round does not reset the good rounds counted after it (issue #17)', async (t) => {
  const driver = new Driver();
  const { engine, u, logged } = engineWith(t, driver);
  const state = () => engine.healthOf(u);
  // Round 0 was sent just before the drop ended; rounds 1 and 2 were sent after it and are answered at once.
  const r0 = engine.probe(u);
  const r1 = engine.probe(u);
  const r2 = engine.probe(u);
  driver.answer(1, true);
  driver.answer(2, true);
  t.same(await Promise.all([r1, r2]), [false, false], 'nothing applied while round 0 is in flight');
  t.equal(state().rounds, 0);
  // Round 0 times out last. Applied in finishing order it came after two good rounds and reset them to 0.
  driver.answer(0, false);
  t.equal(await r0, false);
  t.match(state(), { state: 'down', rounds: 3, good: 2, bad: 0 }, 'send order: lost, good, good');
  const r3 = engine.probe(u);
  driver.answer(3, true);
  t.equal(await r3, true, 'the third good round in a row brings it up');
  t.match(state(), { state: 'up', good: 3 });
  t.match(logged, [/wan: up: 3 probe rounds answered in a row \(up=3\)/]);
});

t.test('a late answer of an older round does not override a newer loss either', async (t) => {
  const driver = new Driver();
  const { engine, u } = engineWith(t, driver);
  for (let i = 0; i < 3; i++) {
    const p = engine.probe(u);
    driver.answer(i, true);
    await p;
  }
  t.equal(engine.healthOf(u).state, 'up');
  const older = engine.probe(u);
  const newer1 = engine.probe(u);
  const newer2 = engine.probe(u);
  driver.answer(4, false);
  driver.answer(5, false);
  await Promise.all([newer1, newer2]);
  t.equal(engine.healthOf(u).state, 'up', 'held behind round 3');
  driver.answer(3, true);
  t.equal(await older, true, 'round 3 releases 4 and 5: two losses after the answer, down');
  t.match(engine.healthOf(u), { state: 'down', bad: 2 });
});

t.test('a probe that cannot start gives no verdict and does not hold back the rounds after it', async (t) => {
  const driver = new Driver();
  const { engine, u } = engineWith(t, driver);
  const broken = engine.probe(u);
  const next = engine.probe(u);
  driver.answer(1, true);
  await next;
  driver.calls[0]?.fail(new Error('ping: not found'));
  await t.rejects(broken, /ping: not found/);
  t.match(engine.healthOf(u), { rounds: 1, good: 1 });
});

t.test('probe targets: track_ip, else the gateway (ping) or the DNS servers of the uplink (dns)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uplinks-targets-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const nl = Netlink.open();
  t.teardown(() => nl.close());
  const config = parseConfig([
    { name: 'g', type: 'globals', options: { table: '1', resolv_file: join(dir, 'none'), state_file: join(dir, 'lg.json') } },
    { name: 'p', type: 'interface', options: { device: 'lo', gateway: 'fe80::1' } },
    { name: 'd', type: 'interface', options: { device: 'lo', track_method: 'dns', dns_server: ['2001:db8::53', '2001:db8::54'] } },
    { name: 'e', type: 'interface', options: { device: 'lo', track_method: 'dns' } },
  ]);
  const engine = new Engine(nl, { config, table: 1 });
  engine.refresh();
  const [p, d, e] = config.uplinks;
  if (!p || !d || !e) throw new Error('uplinks missing');
  t.same(engine.probeTargets(p), ['fe80::1']);
  t.same(engine.probeTargets(d), ['2001:db8::53', '2001:db8::54']);
  t.same(engine.probeTargets(e), []);
  await engine.probe(e);
  t.match(engine.healthOf(e).reason, /no DNS server to probe: set track_ip or dns_server, or list one under "# Interface e"/);
});
