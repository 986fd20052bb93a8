import t from 'tap';
import { type Candidate, choose, sameChoice } from '../src/chooser.js';
import { applyCarrier, applyProbe, applyRestored, initialHealth, roundOk } from '../src/health.js';

const hy = { up: 3, down: 2 };

t.test('a new uplink is down until `up` good rounds in a row', async (t) => {
  let h = applyCarrier(initialHealth(), true);
  t.equal(h.state, 'down');
  h = applyProbe(h, true, hy);
  h = applyProbe(h, true, hy);
  t.equal(h.state, 'down', 'two of three is not enough');
  h = applyProbe(h, false, hy);
  h = applyProbe(h, true, hy);
  h = applyProbe(h, true, hy);
  t.equal(h.state, 'down', 'a lost round resets the good count');
  h = applyProbe(h, true, hy, 'rtt 1 ms');
  t.equal(h.state, 'up');
  t.match(h.reason, /3 probe rounds answered in a row \(up=3\) \(rtt 1 ms\)/);
  t.equal(h.rounds, 6);
  t.equal(h.lost, 1);
});

t.test('an up uplink goes down after `down` lost rounds in a row, not after one', async (t) => {
  let h = applyCarrier(initialHealth(), true);
  for (let i = 0; i < 3; i++) h = applyProbe(h, true, hy);
  h = applyProbe(h, false, hy);
  t.equal(h.state, 'up', 'one lost round is tolerated');
  t.match(h.reason, /1 of 2 lost rounds/);
  h = applyProbe(h, true, hy);
  h = applyProbe(h, false, hy);
  t.equal(h.state, 'up', 'a good round resets the bad count');
  h = applyProbe(h, false, hy);
  t.equal(h.state, 'down');
  t.match(h.reason, /2 probe rounds lost in a row \(down=2\)/);
});

t.test('carrier loss is immediate and late probe answers do not resurrect the uplink', async (t) => {
  let h = applyCarrier(initialHealth(), true);
  for (let i = 0; i < 3; i++) h = applyProbe(h, true, hy);
  t.equal(h.state, 'up');
  h = applyCarrier(h, false);
  t.equal(h.state, 'down');
  t.equal(h.reason, 'no carrier');
  t.equal(applyCarrier(h, false), h, 'no change, same object');
  h = applyProbe(h, true, hy);
  t.equal(h.state, 'down');
  h = applyCarrier(h, true);
  t.match(h.reason, /waiting for probes/);
  t.equal(h.state, 'down');
  const single = { up: 1, down: 1 };
  h = applyProbe(h, true, single);
  t.match(h.reason, /1 probe round answered/);
  t.equal(applyProbe(h, false, single).state, 'down');
  t.match(applyProbe(applyCarrier(initialHealth(), true), false, hy).reason, /down: 1 probe round lost in a row/);
  t.match(applyProbe(applyProbe(applyCarrier(initialHealth(), true), true, single), true, single).reason, /last probe answered/);
});

t.test('a restore vouches for the uplink at once', async (t) => {
  const h = applyRestored(initialHealth(), 'fe80::1');
  t.equal(h.state, 'up');
  t.equal(h.carrier, true);
  t.match(h.reason, /gateway fe80::1 answered/);
});

t.test('reliability: how many targets must answer', async (t) => {
  t.equal(roundOk(1, 3, 1), true);
  t.equal(roundOk(1, 3, 2), false);
  t.equal(roundOk(1, 1, 2), true, 'capped to the number of targets');
  t.equal(roundOk(0, 0, 1), false, 'no targets is never healthy');
});

function cand(name: string, over: Partial<Candidate> = {}): Candidate {
  return { name, family: 6, metric: 1, weight: 1, state: 'up', enabled: true, device: `eth-${name}`, gateway: 'fe80::1', ...over };
}

t.test('chooser: lowest metric among healthy uplinks wins', async (t) => {
  const c = choose(6, [cand('wan', { metric: 1 }), cand('wwan', { metric: 2 })]);
  t.same(
    c.members.map((m) => m.name),
    ['wan'],
  );
  t.match(c.reason, /wan \(metric 1, weight 1\) is the healthy uplink with the lowest metric; wwan stands by/);
  const f = choose(6, [cand('wan', { metric: 1, state: 'down' }), cand('wwan', { metric: 2 })]);
  t.same(
    f.members.map((m) => m.name),
    ['wwan'],
  );
  t.match(f.reason, /wan is down/);
});

t.test('chooser: equal metrics share by weight, ordered by name', async (t) => {
  const c = choose(6, [cand('wan2', { weight: 1 }), cand('wan', { weight: 3 }), cand('wwan', { metric: 5 })]);
  t.same(
    c.members.map((m) => [m.name, m.weight]),
    [
      ['wan', 3],
      ['wan2', 1],
    ],
  );
  t.match(
    c.reason,
    /weighted multipath: wan \(metric 1, weight 3\) and wan2 \(metric 1, weight 1\) are healthy at metric 1; wwan stands by/,
  );
});

t.test('chooser: none healthy, disabled or other family means no default (fail closed)', async (t) => {
  const c = choose(6, [cand('wan', { state: 'down' }), cand('wan2', { enabled: false }), cand('v4', { family: 4 })]);
  t.same(c.members, []);
  t.match(c.reason, /no uplink is healthy \(wan down\): the unreachable metric-65535 floor fails closed/);
  t.match(choose(4, []).reason, /no uplink is configured/);
});

t.test('sameChoice compares routing, not reasons', async (t) => {
  const a = choose(6, [cand('wan'), cand('wan2')]);
  const b = choose(6, [cand('wan2'), cand('wan')]);
  t.ok(sameChoice(a, b));
  t.notOk(sameChoice(undefined, b));
  t.notOk(sameChoice(a, choose(6, [cand('wan', { weight: 2 }), cand('wan2')])));
  t.notOk(sameChoice(a, choose(6, [cand('wan')])));
});
