// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * Issue #18, "one owner": meshwan's firewall rules are one ruleset, policy's, written only by `meshwan apply`.
 * On every backend, policy's full ruleset is put in place, then every command that could touch it is run
 * (every meshwan-fw command, write attempts included, and meshwan's apply, status and check), and after each one
 * the DNS zone, redirect, guard, late-packet and connmark rules are all still there, in order and nothing else:
 * a command either leaves them alone or is refused. Before, `meshwan-fw apply --dns-redirect 800` replaced the
 * whole ruleset with its four DNAT rules and `meshwan-fw remove` deleted it.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Firewall, IptablesBackend, NftBackend, type Ruleset } from '@meshwan/iptables-wrapper';
import t from 'tap';
import { isRoot, type Namespace } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { loadContext, resolvePaths } from '../src/config.js';
import { firewallRuleset } from '../src/firewall.js';
import { cliEnv, createNode, meshwan } from './lib/node.js';

t.setTimeout(300_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');
const meshwanFw = new URL('../../../node_modules/.bin/meshwan-fw', import.meta.url).pathname;

interface BackendCase {
  readonly name: 'iptables-nft' | 'iptables-legacy' | 'nft';
  /** /etc/config/meshwan `firewall.backend` for `meshwan apply`; it cannot choose iptables-legacy where iptables is nf_tables. */
  readonly site: 'iptables' | 'nft';
  make(netns: string): Firewall;
  /** What the kernel holds of ours, as the backend's own tool prints it: the independent witness. */
  dump(ns: Namespace): string;
}

const save = (ns: Namespace, variant: string) => ['iptables', 'ip6tables'].map((base) => ns.exec(`${base}-${variant}-save`)).join('');

const backends: readonly BackendCase[] = [
  {
    name: 'iptables-nft',
    site: 'iptables',
    make: (netns) => new IptablesBackend({ variant: 'nft', netns }),
    dump: (ns) => save(ns, 'nft'),
  },
  {
    name: 'iptables-legacy',
    site: 'iptables',
    make: (netns) => new IptablesBackend({ variant: 'legacy', netns }),
    dump: (ns) => save(ns, 'legacy'),
  },
  {
    name: 'nft',
    site: 'nft',
    make: (netns) => new NftBackend({ netns }),
    dump: (ns) => ns.try('nft', 'list', 'table', 'inet', 'meshwan').stdout,
  },
];

/** Every part of policy's ruleset, by the comment its rules carry. */
const parts = [
  'dns-redirect-zone',
  'dns-redirect',
  'dns-redirect-guard',
  'dns-redirect-late',
  'owned',
  'ownerless',
  'wan-connmark-set',
  'wan-connmark-restore-in',
  'wan-connmark-save',
  'wan-connmark-restore',
];

/** The parts whose rules the kernel no longer holds (comments are `mw:<id> <comment>`). */
function missingParts(dump: string): string[] {
  return parts.filter((p) => !new RegExp(`mw:[0-9a-f]{8} ${p}"`).test(dump));
}

/** The installed command, as an operator runs it; it reaches into the namespace itself (--netns). */
// The development entry is the router's build (a sh launcher of meshwan-js and its bytecode), not a Node script.
function meshwanFwRun(args: readonly string[]) {
  return spawnSync(meshwanFw, args, { encoding: 'utf8', env: cliEnv() });
}

for (const b of backends) {
  t.test(`${b.name}: no command removes a rule of policy's ruleset`, async (t) => {
    const n = createNode(t);
    writeFileSync(join(n.root, 'etc/config/meshwan'), `config firewall 'firewall'\n\toption backend '${b.site}'\n`);
    const ctx = loadContext(resolvePaths(n.root));
    const ruleset: Ruleset = firewallRuleset(ctx.network, ctx.settings);
    t.same(
      parts.filter((p) => !ruleset.rules.some((r) => r.comment === p)),
      [],
      'the ruleset has every part (the node has a WAN device, so connmark rules too)',
    );
    const file = join(n.root, 'ruleset.json');
    writeFileSync(file, JSON.stringify(ruleset));
    const fw = b.make(n.node.name);
    await fw.apply(ruleset);

    const held = async (what: string) => {
      t.same(missingParts(b.dump(n.node)), [], `after ${what}: every part is in the kernel`);
      const report = await b.make(n.node.name).status(ruleset);
      t.same(report.drift, [], `after ${what}: ${b.name} holds exactly policy's ruleset`);
    };
    await held("policy's apply");

    const on = ['--backend', b.name, '--netns', n.node.name];
    const commands: [string, string[], number][] = [
      ['meshwan-fw print', ['print', file, '--backend', b.name], 0],
      ['meshwan-fw status', ['status', file, ...on], 0],
      ['meshwan-fw status --json', ['status', file, ...on, '--json'], 0],
      ['meshwan-fw apply RULESET.json', ['apply', file, ...on], 2],
      ['meshwan-fw apply --dns-redirect', ['apply', '--dns-redirect', '800', ...on], 2],
      ['meshwan-fw remove', ['remove', ...on], 2],
      ['meshwan-fw remove --dry-run', ['remove', '--dry-run', ...on], 2],
    ];
    for (const [what, args, code] of commands) {
      const r = meshwanFwRun(args);
      t.equal(r.status, code, `${what}: exit ${code} ${r.stderr}`);
      if (code === 2) t.match(r.stderr, /^meshwan-fw: (\w+: refused|Unknown option)/, `${what}: refused`);
      await held(what);
    }

    // policy's own commands: the owner re-applies the same ruleset (nothing to change), the others only read.
    const firewallOnly = meshwan(n, ['apply', '--firewall-only']);
    t.equal(firewallOnly.status, 0, `meshwan apply --firewall-only: ${firewallOnly.stderr}`);
    await held('meshwan apply --firewall-only');
    const full = meshwan(n, ['apply']);
    t.equal(full.status, 0, `meshwan apply: ${full.stderr}`);
    await held('meshwan apply');
    for (const command of ['status', 'check']) {
      const r = meshwan(n, [command]);
      t.not(r.status, null, `meshwan ${command} ran to its end`);
      await held(`meshwan ${command}`);
    }
  });
}
