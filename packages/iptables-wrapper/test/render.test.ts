import { readFileSync } from 'node:fs';
import t from 'tap';
import { DryRunBackend, dnsRedirectRuleset, nftRule, nftScript, type Rule, ruleCommand, ruleLine } from '../src/index.js';
import { parseSave, planIptables, tokenize } from '../src/iptables-plan.js';
import { nftDrift } from '../src/nft-rules.js';
import { parseNftText, parsePriority } from '../src/nft-state.js';

const full: Rule = {
  family: 4,
  table: 'mangle',
  chain: 'OUTPUT',
  match: {
    protocol: 'udp',
    source: { not: '192.0.2.0/24' },
    destination: '198.51.100.1',
    sourcePort: [1024, 2048],
    destinationPort: 53,
    outInterface: 'wan+',
    owner: { uid: [0, 10], gid: 800, supplGroups: true },
    mark: { value: 0x1, mask: 0x1 },
    ctState: ['NEW', 'ESTABLISHED'],
    addrType: { source: 'LOCAL', destination: { not: 'LOCAL' } },
  },
  target: { type: 'MARK', set: 0x1, mask: 0x1 },
  comment: 'wan mark',
};

t.test('iptables lines follow iptables-save order and quote the comment', async (t) => {
  t.match(
    ruleLine(full),
    /^-A meshwan_OUTPUT ! -s 192.0.2.0\/24 -d 198.51.100.1 -o wan\+ -p udp -m owner --uid-owner 0-10 --gid-owner 800 --suppl-groups -m mark --mark 0x1\/0x1 -m conntrack --ctstate NEW,ESTABLISHED -m addrtype --src-type LOCAL ! --dst-type LOCAL -m udp --sport 1024:2048 --dport 53 -m comment --comment "mw:/,
  );
  t.match(ruleLine(full), / -m comment --comment "mw:[0-9a-f]{8} wan mark" -j MARK --set-xmark 0x1\/0x1$/);
  const [udp] = dnsRedirectRuleset({ gid: 800 }).rules.filter((r) => r.family === 6);
  t.match(
    ruleLine(udp as Rule),
    /-A meshwan_OUTPUT -p udp -m owner --gid-owner 800 -m udp --dport 53 -m comment --comment "mw:\w+ dns-redirect" -j DNAT --to-destination \[::1\]:54$/,
  );
  t.same(ruleCommand({ family: 6, table: 'filter', chain: 'meshwan_x', target: { type: 'DROP' } }).slice(0, 6), [
    'ip6tables',
    '-w',
    '-t',
    'filter',
    '-A',
    'meshwan_x',
  ]);
  const targets: [Rule['target'], string][] = [
    [{ type: 'CONNMARK', op: 'save', mask: 0xff }, '-j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff'],
    [{ type: 'CONNMARK', op: 'restore' }, '-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff'],
    [{ type: 'CONNMARK', op: 'set', value: 2 }, '-j CONNMARK --set-xmark 0x2/0xffffffff'],
    [{ type: 'REDIRECT' }, '-j REDIRECT'],
    [{ type: 'DNAT', address: '192.0.2.1' }, '-j DNAT --to-destination 192.0.2.1'],
  ];
  for (const [target, text] of targets) t.ok(ruleLine({ family: 4, table: 'nat', chain: 'meshwan_y', target }).endsWith(text), text);
});

t.test('nft statements', async (t) => {
  t.match(
    nftRule(full),
    /^meta nfproto ipv4 meta l4proto udp ip saddr != 192.0.2.0\/24 ip daddr 198.51.100.1 oifname "wan\*" meta skuid 0-10 meta skgid 800 meta mark & 0x1 == 0x1 ct state \{ new, established \} fib saddr type local fib daddr type != local udp sport 1024-2048 udp dport 53 meta mark set meta mark & 0xfffffffe \| 0x1 comment "mw:\w{8} wan mark"$/,
  );
  const script = nftScript([
    ...dnsRedirectRuleset({ gid: 800 }).rules,
    {
      family: 6,
      table: 'filter',
      chain: 'INPUT',
      match: { inInterface: { not: 'lo' }, mark: { not: { value: 2 } } },
      target: { type: 'jump', chain: 'meshwan_in' },
    },
    { family: 6, table: 'filter', chain: 'meshwan_in', match: { protocol: 'icmpv6' }, target: { type: 'CONNMARK', op: 'save' } },
    { family: 6, table: 'filter', chain: 'meshwan_in', target: { type: 'CONNMARK', op: 'restore' } },
    { family: 6, table: 'mangle', chain: 'PREROUTING', target: { type: 'CONNMARK', op: 'set', value: 1 } },
    { family: 4, table: 'nat', chain: 'PREROUTING', match: { protocol: 'tcp' }, target: { type: 'REDIRECT', port: 8080 } },
    { family: 4, table: 'nat', chain: 'POSTROUTING', target: { type: 'RETURN' } },
  ]);
  t.match(
    script,
    /^table inet meshwan \{\}\ndelete table inet meshwan\ntable inet meshwan \{\n\tchain nat_output \{\n\t\ttype nat hook output priority -100; policy accept;\n/,
  );
  t.match(script, /meta nfproto ipv6 meta l4proto tcp meta skgid 800 tcp dport 53 dnat ip6 to \[::1\]:54 comment/);
  t.match(
    script,
    /chain filter_input \{\n\t\ttype filter hook input priority 0; policy accept;\n\t\tmeta nfproto ipv6 iifname != "lo" meta mark != 0x2 jump filter_meshwan_in comment/,
  );
  t.match(
    script,
    /chain filter_meshwan_in \{\n\t\tmeta nfproto ipv6 meta l4proto ipv6-icmp ct mark set meta mark comment "mw:\w+"\n\t\tmeta nfproto ipv6 meta mark set ct mark/,
  );
  t.match(script, /type filter hook prerouting priority -150;[^\n]*\n\t\tmeta nfproto ipv6 ct mark set 0x1 comment/);
  t.match(script, /type nat hook prerouting priority -100;[^\n]*\n\t\tmeta nfproto ipv4 meta l4proto tcp redirect to :8080/);
  t.match(script, /type nat hook postrouting priority 100;[^\n]*\n\t\tmeta nfproto ipv4 return/);
  t.equal(nftScript([]), 'table inet meshwan {}\ndelete table inet meshwan\n');
  const masked = nftRule({
    family: 4,
    table: 'mangle',
    chain: 'OUTPUT',
    match: { outInterface: 'wan' },
    target: { type: 'CONNMARK', op: 'save', mask: 0x5 },
  });
  t.match(
    masked,
    /^meta nfproto ipv4 oifname "wan" meta mark & 0x1 == 0x1 ct mark set ct mark \| 0x1 comment "mw:\w+"\nmeta nfproto ipv4 oifname "wan" meta mark & 0x1 == 0x0 ct mark set ct mark & 0xfffffffe comment "mw:\w+"\n[^\n]*meta mark & 0x4 == 0x4 ct mark set ct mark \| 0x4 [^\n]*\n[^\n]*meta mark & 0x4 == 0x0 ct mark set ct mark & 0xfffffffb [^\n]*$/,
  );
  t.match(
    nftRule({ family: 6, table: 'mangle', chain: 'PREROUTING', target: { type: 'CONNMARK', op: 'restore', mask: 0x1 } }),
    /ct mark & 0x1 == 0x1 meta mark set meta mark \| 0x1 [^\n]*\n[^\n]*ct mark & 0x1 == 0x0 meta mark set meta mark & 0xfffffffe /,
  );
});

t.test('tokenize undoes iptables-save quoting', async (t) => {
  t.same(tokenize('-A x -m comment --comment "a \\"b\\" c" -j ACCEPT'), [
    '-A',
    'x',
    '-m',
    'comment',
    '--comment',
    'a "b" c',
    '-j',
    'ACCEPT',
  ]);
});

t.test('the iptables plan keeps foreign rules and repairs ours', async (t) => {
  const rules = dnsRedirectRuleset({ gid: 800 }).rules;
  const fresh = planIptables(4, new Map(), rules);
  t.same(
    fresh.drift.map((d) => d.kind),
    ['missing-chain', 'missing-jump'],
  );
  t.match(
    fresh.script,
    /^\*nat\n:meshwan_OUTPUT - \[0:0\]\n-A meshwan_OUTPUT .*\n-A meshwan_OUTPUT .*\n-I OUTPUT 1 -j meshwan_OUTPUT\nCOMMIT\n$/,
  );
  // What the kernel would then hold, plus a foreign rule, a duplicate jump and a stale chain of ours.
  const installed = fresh.script.replace('-I OUTPUT 1 ', '-A OUTPUT ');
  const saved = `${installed.replace('COMMIT\n', '')}-A OUTPUT -p tcp -j ACCEPT\n-A OUTPUT -j meshwan_OUTPUT\n:meshwan_old - [0:0]\n-A POSTROUTING -j meshwan_old\n-A PREROUTING -p udp -g meshwan_old\nCOMMIT\n*raw\n:x - [0:0]\nCOMMIT\n`;
  const plan = planIptables(4, parseSave(saved), rules);
  t.same(
    plan.drift.map((d) => `${d.kind} ${d.chain}`),
    ['extra-chain meshwan_old', 'extra-jump OUTPUT', 'extra-jump POSTROUTING', 'extra-jump PREROUTING'],
  );
  t.equal(
    plan.script,
    '*nat\n:meshwan_old - [0:0]\n-D OUTPUT -j meshwan_OUTPUT\n-D POSTROUTING -j meshwan_old\n-D PREROUTING -p udp -g meshwan_old\n-X meshwan_old\nCOMMIT\n',
  );
  t.equal(planIptables(4, parseSave(installed), rules).script, '', 'in sync: nothing to write');
  const reordered = planIptables(4, parseSave(installed), [rules[1] as Rule, rules[0] as Rule]);
  t.same(
    reordered.drift.map((d) => d.kind),
    ['wrong-order'],
  );
});

t.test('the dry run prints what a fresh firewall would get and remembers it', async (t) => {
  for (const flavor of ['iptables', 'nft'] as const) {
    let out = '';
    const fw = new DryRunBackend({
      flavor,
      write: (s) => {
        out += s;
      },
    });
    const rs = dnsRedirectRuleset({ gid: 800 });
    t.same(await fw.status(rs), { inSync: false, drift: flavor === 'nft' ? [] : (await fw.status(rs)).drift });
    t.equal((await fw.apply(rs)).changed, true);
    t.match(
      out,
      flavor === 'nft'
        ? /^nft -f - <<'EOF'\ntable inet meshwan \{\}/
        : /^iptables-restore --noflush -w <<'EOF'\n\*nat\n[\s\S]*ip6tables-restore/,
    );
    t.equal((await fw.apply(rs)).changed, false);
    t.equal((await fw.status(rs)).inSync, true);
    out = '';
    await fw.remove();
    t.match(out, flavor === 'nft' ? /delete table inet meshwan/ : /-D OUTPUT -j meshwan_OUTPUT\n-X meshwan_OUTPUT/);
  }
});

t.test('the nft text listing reads like the JSON one (for nft built without JSON)', async (t) => {
  const text = readFileSync(new URL('./fixtures/nft-list.txt', import.meta.url), 'utf8');
  const rules: Rule[] = [
    ...dnsRedirectRuleset({ gid: 800 }).rules,
    { family: 4, table: 'nat', chain: 'PREROUTING', target: { type: 'jump', chain: 'meshwan_x' } },
    { family: 4, table: 'nat', chain: 'POSTROUTING', target: { type: 'ACCEPT' } },
    { family: 6, table: 'mangle', chain: 'PREROUTING', target: { type: 'ACCEPT' } },
    { family: 6, table: 'mangle', chain: 'OUTPUT', target: { type: 'ACCEPT' } },
    { family: 6, table: 'filter', chain: 'INPUT', target: { type: 'ACCEPT' }, comment: 'a quoted one' },
  ];
  const state = parseNftText(text);
  t.same(nftDrift(state, rules), [], 'captured listing of exactly these rules: no drift');
  t.same(state.chains.get('nat_prerouting')?.base, { type: 'nat', hook: 'prerouting', prio: -100 });
  t.same(state.chains.get('mangle_output')?.base, { type: 'route', hook: 'output', prio: -150 });
  t.same(state.chains.get('nat_meshwan_x'), { rules: [] });
  t.same(
    nftDrift(
      parseNftText(
        text.replace('priority srcnat', 'priority filter').replace(/\t\tmeta nfproto ipv4 accept comment "mw:\w+" # handle 13\n/, ''),
      ),
      rules,
    ).map((d) => d.kind),
    ['missing-jump', 'missing-rule'],
  );
  t.equal(parsePriority('filter - 10'), -10);
  t.equal(parsePriority('mangle + 5'), -145);
  t.ok(Number.isNaN(parsePriority('nonsense')));
  t.throws(() => parseNftText('\tmeta mark 1\n'), /line 1: expected a chain/);
});
