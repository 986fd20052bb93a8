/** Moved RA routes keep their lifetime (issue #17): the moved copy carries it, and a new announcement refreshes it. */
import t from 'tap';
import { deriveDesired } from '../src/desired.js';
import { type Prefix, parsePrefix } from '../src/ip.js';
import { describeStep, toRouteRequest } from '../src/kernel.js';
import type { Route } from '../src/model.js';
import { parseNetwork } from '../src/network.js';
import { planChanges } from '../src/plan.js';
import type { Link } from '../src/state.js';
import { raDefault as announced, gluonNetwork, split } from './lib/fixtures.js';

const links: Link[] = [
  { name: 'lo', ifindex: 1, up: true },
  { name: 'br-wan', ifindex: 5, up: true },
];
const raDefault: Route = announced({ expiresSeconds: 1800 });

function plan(main: readonly Route[], table1: readonly Route[]) {
  const config = parseNetwork(gluonNetwork);
  const routes = [...main, ...table1];
  return planChanges(deriveDesired(config, split, { links, addresses: [], routes }), [], routes).steps.filter(
    (s) => s.op !== 'addRule' && !(s.op === 'addRoute' && s.route.type === 'unreachable'),
  );
}

t.test('the moved copy is sent with the time the RA route had left', async (t) => {
  const steps = plan([raDefault], []);
  t.same(
    steps.map((s) => s.op),
    ['addRoute', 'deleteRoute'],
  );
  const add = steps[0];
  t.equal(add?.op === 'addRoute' && add.route.table, 1);
  t.match(add?.op === 'addRoute' && toRouteRequest(add.route), { table: 1, gateway: 'fe80::1', expiresSeconds: 1800 });
  t.notOk('expiresSeconds' in toRouteRequest({ ...raDefault, family: 4, dst: parsePrefix('0.0.0.0/0') as Prefix }), 'IPv4: none');
});

t.test('an announcement that outlives the copy refreshes it; an equal or older one does not', async (t) => {
  const copy = { ...raDefault, table: 1, expiresSeconds: 600 };
  const fresh = plan([raDefault], [copy]);
  t.same(
    fresh.map((s) => s.op),
    ['refreshRoute', 'deleteRoute'],
    'refresh first, then the main copy goes',
  );
  t.match(fresh[0] && describeStep(fresh[0]), /^refresh route default via fe80::1 dev br-wan table 1 .* expires 1800s$/);
  t.same(
    plan([{ ...raDefault, expiresSeconds: 601 }], [copy]).map((s) => s.op),
    ['deleteRoute'],
    'within a second: rounding, no refresh',
  );
  t.same(
    plan([raDefault], [{ ...copy, expiresSeconds: undefined }]).map((s) => s.op),
    ['deleteRoute'],
    'a copy that never expires is left alone (the kernel would not refresh it)',
  );
  t.same(plan([], [copy]), [], 'no announcement, nothing to do');
});
