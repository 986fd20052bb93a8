// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The raw table and the CT target (conntrack zone of the original direction), on every backend, in namespaces:
 * applied, idempotent, in sync, removed without trace. policy uses it to keep the VPN group's DNS flows apart.
 */
import t from 'tap';
import { createNamespace } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { type Ruleset, validate } from '../src/index.js';
import { backendCases, missingPart } from './lib.js';

t.setTimeout(240_000);

const zoned: Ruleset = {
  rules: ([4, 6] as const).map((family) => ({
    family,
    table: 'raw' as const,
    chain: 'OUTPUT',
    match: { protocol: 'udp' as const, destinationPort: 53, owner: { gid: 800 } },
    target: { type: 'CT' as const, zoneOrig: 54 },
    comment: 'zone',
  })),
};

requireParts(missingPart);

t.test('validate: CT only in raw, zones 1..65535', async (t) => {
  t.doesNotThrow(() => validate(zoned));
  const rule = zoned.rules[0];
  if (!rule) throw new Error('no rule');
  t.throws(() => validate({ rules: [{ ...rule, table: 'mangle' }] }), /CT is only valid in the raw table/);
  t.throws(() => validate({ rules: [{ ...rule, target: { type: 'CT', zoneOrig: 0 } }] }), /zoneOrig/);
  t.throws(() => validate({ rules: [{ ...rule, target: { type: 'CT', zoneOrig: 65536 } }] }), /zoneOrig/);
  t.throws(() => validate({ rules: [{ ...rule, chain: 'INPUT' }] }), /the raw table has no INPUT chain/);
});

for (const c of backendCases) {
  t.test(`${c.name}: raw OUTPUT CT --zone-orig`, async (t) => {
    const ns = createNamespace(t, 'ct');
    const fw = c.make(ns.name);
    t.equal((await fw.apply(zoned)).changed, true);
    const ours = c.ours(ns);
    t.match(ours, c.name === 'nft' ? /ct original zone set 54/ : /-j CT --zone-orig 54/);
    if (c.name === 'nft') t.match(ours, /type filter hook output priority (raw|-300)/);
    t.same(await fw.status(zoned), { inSync: true, drift: [] });
    t.same(await fw.apply(zoned), { changed: false, repaired: [] }, 'applying twice changes nothing');
    await fw.remove();
    t.equal(c.ours(ns), '', 'nothing of ours left');
  });
}
