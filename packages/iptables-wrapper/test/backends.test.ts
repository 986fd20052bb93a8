// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * One suite, run against every backend inside its own network namespaces: the host's firewall is never touched.
 * Witnesses are the tools' own listings (iptables-save, nft list), not our status().
 */
import t from 'tap';
import { createNamespace } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { dnsRedirectRuleset, FirewallError, type Rule, type Ruleset } from '../src/index.js';
import { backendCases, missingPart } from './lib.js';

// Real tools in namespaces: slower than tap's 30 s default on 2 busy cores.
t.setTimeout(240_000);

const A: Ruleset = dnsRedirectRuleset({ gid: 800 });
/** One rule, on one line: the suite's rulesets are long lists of them. */
const rule = (family: Rule['family'], table: Rule['table'], chain: string, match: Rule['match'], target: Rule['target']): Rule => ({
  family,
  table,
  chain,
  ...(match === undefined ? {} : { match }),
  target,
});
const B: Ruleset = {
  rules: [
    rule(4, 'nat', 'OUTPUT', { protocol: 'udp', destinationPort: 53, owner: { gid: 900 } }, { type: 'jump', chain: 'meshwan_dns' }),
    rule(4, 'nat', 'meshwan_dns', { protocol: 'udp' }, { type: 'DNAT', address: '127.0.0.1', port: 5353 }),
    rule(6, 'mangle', 'OUTPUT', { owner: { uid: 0 }, ctState: ['NEW'] }, { type: 'MARK', set: 1, mask: 1 }),
    rule(6, 'mangle', 'PREROUTING', { mark: { value: 1, mask: 1 } }, { type: 'CONNMARK', op: 'save', mask: 0x3 }),
    rule(6, 'mangle', 'OUTPUT', { outInterface: 'lo' }, { type: 'CONNMARK', op: 'restore', mask: 0x1 }),
    rule(4, 'filter', 'INPUT', { addrType: { destination: { not: 'LOCAL' } }, inInterface: 'veth+' }, { type: 'REJECT' }),
  ],
};
/** Valid rules the kernel refuses: DNAT reached from nat POSTROUTING through a custom chain (only PREROUTING/OUTPUT may DNAT). */
const refused: Ruleset = {
  rules: [
    rule(4, 'nat', 'POSTROUTING', undefined, { type: 'jump', chain: 'meshwan_bad' }),
    rule(4, 'nat', 'meshwan_bad', { protocol: 'udp' }, { type: 'DNAT', address: '192.0.2.1', port: 53 }),
  ],
};

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;

requireParts(missingPart);

for (const c of backendCases) {
  t.test(c.name, async (t) => {
    t.test('apply, replace and remove; remove leaves no trace', async (t) => {
      const ns = createNamespace(t, 'fw');
      const fw = c.make(ns.name);
      const before = c.dump(ns);
      t.same((await fw.apply(A)).changed, true);
      const afterA = c.ours(ns);
      t.equal(count(afterA, /dns-redirect/g), 4, 'four redirect rules');
      if (c.name === 'nft') t.match(afterA, /type nat hook output priority -100/);
      else t.equal(count(afterA, /^-A OUTPUT -j meshwan_OUTPUT$/gm), 2, 'one jump per family');
      t.same(await fw.status(A), { inSync: true, drift: [] });

      await fw.apply(B);
      const afterB = c.ours(ns);
      t.equal(count(afterB, /dns-redirect/g), 0, 'A is gone');
      t.match(afterB, /5353/);
      t.match(afterB, c.name === 'nft' ? /chain mangle_prerouting/ : /-A PREROUTING -j meshwan_PREROUTING/);
      t.same(await fw.status(B), { inSync: true, drift: [] });
      t.equal((await fw.status(A)).inSync, false);

      await fw.remove();
      t.equal(c.ours(ns), '', 'nothing of ours left');
      const normalize = (s: string) =>
        c.name === 'nft'
          ? s
          : s
              .split('\n')
              .filter((l) => l.startsWith('-A') || (l.startsWith(':') && !/^:[A-Z]+ ACCEPT/.test(l)))
              .join('\n');
      t.equal(normalize(c.dump(ns)), normalize(before), 'the firewall is as before');
      await fw.remove();
      t.equal(c.ours(ns), '', 'removing twice is fine');
    });

    t.test('applying twice changes nothing', async (t) => {
      const ns = createNamespace(t, 'fw');
      const fw = c.make(ns.name);
      await fw.apply(B);
      const once = c.dump(ns);
      t.same(await fw.apply(B), { changed: false, repaired: [] });
      t.equal(c.dump(ns), once);
    });

    t.test('status reports drift and apply repairs it', async (t) => {
      const ns = createNamespace(t, 'fw');
      const fw = c.make(ns.name);
      await fw.apply(A);
      if (c.name === 'nft') {
        const handle =
          /comment "mw:\w+ dns-redirect" # handle (\d+)/.exec(
            ns.exec('nft', '-a', 'list', 'chain', 'inet', 'meshwan', 'nat_output'),
          )?.[1] ?? '';
        ns.exec('nft', 'delete', 'rule', 'inet', 'meshwan', 'nat_output', 'handle', handle);
        ns.exec('nft', 'add', 'rule', 'inet', 'meshwan', 'nat_output', 'counter');
      } else {
        const v = c.name === 'iptables-nft' ? 'nft' : 'legacy';
        ns.exec(`iptables-${v}`, '-w', '-t', 'nat', '-D', 'meshwan_OUTPUT', '1');
        ns.exec(`iptables-${v}`, '-w', '-t', 'nat', '-A', 'meshwan_OUTPUT', '-j', 'ACCEPT');
        ns.exec(`ip6tables-${v}`, '-w', '-t', 'nat', '-D', 'OUTPUT', '-j', 'meshwan_OUTPUT');
        ns.exec(`iptables-${v}`, '-w', '-t', 'nat', '-A', 'OUTPUT', '-j', 'meshwan_OUTPUT');
      }
      const report = await fw.status(A);
      t.equal(report.inSync, false);
      const kinds = report.drift.map((d) => d.kind).sort();
      t.same(kinds, c.name === 'nft' ? ['extra-rule', 'missing-rule'] : ['extra-jump', 'extra-rule', 'missing-jump', 'missing-rule']);
      const repaired = await fw.apply(A);
      t.equal(repaired.changed, true);
      t.same(await fw.status(A), { inSync: true, drift: [] });
      if (c.name !== 'nft') t.equal(count(c.ours(ns), /^-A OUTPUT -j meshwan_OUTPUT$/gm), 2, 'exactly one jump per family again');

      if (c.name === 'nft') ns.exec('nft', 'delete', 'chain', 'inet', 'meshwan', 'nat_output');
      else ns.exec(`iptables-${c.name === 'iptables-nft' ? 'nft' : 'legacy'}`, '-w', '-t', 'nat', '-D', 'OUTPUT', '-j', 'meshwan_OUTPUT');
      t.equal(
        (await fw.status(A)).drift.some((d) => d.kind === 'missing-jump'),
        true,
        'a missing hook is drift',
      );
      await fw.apply(A);
      t.equal((await fw.status(A)).inSync, true);
    });

    t.test('foreign rules and chains are never touched', async (t) => {
      const ns = createNamespace(t, 'fw');
      const fw = c.make(ns.name);
      if (c.name === 'nft') {
        ns.exec('nft', 'add', 'table', 'inet', 'other');
        ns.exec('nft', 'add', 'chain', 'inet', 'other', 'out', '{ type nat hook output priority -100; }');
        ns.exec('nft', 'add', 'rule', 'inet', 'other', 'out', 'tcp', 'dport', '80', 'accept');
        ns.exec('nft', 'add', 'table', 'ip', 'meshwan');
      } else {
        const v = c.name === 'iptables-nft' ? 'nft' : 'legacy';
        for (const base of ['iptables', 'ip6tables']) {
          ns.exec(`${base}-${v}`, '-w', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '80', '-j', 'ACCEPT');
          ns.exec(`${base}-${v}`, '-w', '-t', 'nat', '-N', 'foreign_meshwan');
          ns.exec(`${base}-${v}`, '-w', '-t', 'nat', '-I', 'OUTPUT', '1', '-j', 'foreign_meshwan');
          ns.exec(`${base}-${v}`, '-w', '-t', 'filter', '-A', 'INPUT', '-j', 'ACCEPT');
        }
      }
      // Foreign content: iptables rules and user chains not named meshwan_*; nft tables other than ours.
      const foreign = () =>
        c.name === 'nft'
          ? ns.exec('nft', '-s', 'list', 'ruleset').replace(/table inet meshwan \{[\s\S]*?\n\}\n?/, '')
          : c
              .dump(ns)
              .split('\n')
              .filter((l) => !l.includes('meshwan_') && (l.startsWith('-A') || (l.startsWith(':') && !/^:[A-Z]+ ACCEPT/.test(l))))
              .join('\n');
      const whole = c.dump(ns);
      const before = foreign();
      await fw.apply(A);
      t.equal(foreign(), before, 'after apply');
      await fw.apply(B);
      t.equal(foreign(), before, 'after replace');
      await fw.remove();
      t.equal(c.dump(ns).includes('dns-redirect'), false);
      t.equal(foreign(), before, 'after remove');
      // Legacy x_tables tables cannot be unloaded from a namespace once used; elsewhere not even an empty chain stays.
      if (c.name === 'iptables-legacy') t.equal(foreign(), before, 'legacy: an empty table may stay');
      else t.equal(c.dump(ns), whole, 'after remove, even empty built-in chains are as before');
      if (c.name !== 'nft') t.match(c.dump(ns), /-A OUTPUT -j foreign_meshwan\n-A OUTPUT -p tcp -m tcp --dport 80 -j ACCEPT/);
    });

    t.test('a failed transaction leaves the previous ruleset and says why', async (t) => {
      const ns = createNamespace(t, 'fw');
      const fw = c.make(ns.name);
      await fw.apply(A);
      const before = c.dump(ns);
      const err = await fw.apply(refused).then(
        () => undefined,
        (e: unknown) => e,
      );
      t.ok(err instanceof FirewallError, 'FirewallError');
      if (err instanceof FirewallError) {
        t.equal(err.backend, c.name);
        t.not(err.stderr.trim(), '');
        t.ok(err.command.includes(ns.name), 'the command ran in the namespace');
      }
      t.equal(c.dump(ns), before, 'the kernel still has A');
      t.same(await fw.status(A), { inSync: true, drift: [] });
    });

    t.test('a family the kernel refuses rolls back the family already committed', async (t) => {
      const ns = createNamespace(t, 'fw');
      const fw = c.make(ns.name);
      await fw.apply(A);
      const before = c.dump(ns);
      const half: Ruleset = {
        rules: [
          ...(B.rules.filter((r) => r.family === 4) as Rule[]),
          ...refused.rules.map((r) => ({
            ...r,
            family: 6 as const,
            target: r.target.type === 'DNAT' ? { ...r.target, address: '2001:db8::1' } : r.target,
          })),
        ],
      };
      await t.rejects(fw.apply(half), FirewallError);
      // Legacy x_tables tables, once used, stay (empty); the other backends leave not even that.
      const normalize = (s: string) =>
        c.name === 'iptables-legacy'
          ? s
              .split('\n')
              .filter((l) => l.startsWith('-A') || (l.startsWith(':') && !/^:[A-Z]+ ACCEPT/.test(l)))
              .join('\n')
          : s;
      t.equal(normalize(c.dump(ns)), normalize(before), 'IPv4 and IPv6 both still have A');
      t.same(await fw.status(A), { inSync: true, drift: [] });
    });

    t.test('concurrent applies end in one consistent ruleset', async (t) => {
      const ns = createNamespace(t, 'fw');
      const one = c.make(ns.name);
      const two = c.make(ns.name);
      const results = await Promise.all([one.apply(A), two.apply(B), one.apply(A), two.apply(B), one.apply(B), two.apply(A)]);
      t.equal(results.length, 6);
      t.same(await one.status(A), { inSync: true, drift: [] }, 'the last apply wins');
      if (c.name !== 'nft') t.equal(count(c.ours(ns), /^-A OUTPUT -j meshwan_OUTPUT$/gm), 2, 'no duplicate jumps');
      await Promise.all([one.remove(), two.remove()]);
      t.equal(c.ours(ns), '');
    });
  });
}

t.test('rules the backend cannot express are refused before the kernel is touched', async (t) => {
  const ns = createNamespace(t, 'fw');
  const nft = backendCases.find((c) => c.name === 'nft');
  if (!nft) throw new Error('no nft case');
  const suppl: Rule = {
    family: 4,
    table: 'nat',
    chain: 'OUTPUT',
    match: { owner: { gid: 800, supplGroups: true } },
    target: { type: 'ACCEPT' },
  };
  await t.rejects(nft.make(ns.name).apply({ rules: [suppl] }), { name: 'RulesetError' });
  t.equal(nft.ours(ns), '');
});
