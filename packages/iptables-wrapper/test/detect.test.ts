import t from 'tap';
import { failedLine } from '../src/exec.js';
import { detectBackend, FirewallError, IptablesBackend, type Probe } from '../src/index.js';
import { lockPath, withFileLock } from '../src/lock.js';

function probe(commands: string[], files: string[] = [], version?: string): Probe {
  return { commandExists: (n) => commands.includes(n), fileExists: (p) => files.includes(p), iptablesVersion: () => version };
}
const both = ['nft', 'iptables-restore', 'ip6tables-restore'];

t.test('auto: nft with fw4 or when nft is the only tool, else iptables in the variant iptables -V names', async (t) => {
  t.equal(detectBackend({ probe: probe(both, ['/sbin/fw4']) }).name, 'nft');
  t.equal(detectBackend({ probe: probe(both, ['/usr/share/firewall4']) }).name, 'nft');
  t.equal(detectBackend({ probe: probe(['nft']) }).name, 'nft');
  t.equal(detectBackend({ probe: probe(both, [], 'iptables v1.8.9 (nf_tables)') }).name, 'iptables-nft');
  t.equal(detectBackend({ probe: probe(both, [], 'iptables v1.8.9 (legacy)') }).name, 'iptables-legacy');
  t.equal(
    detectBackend({ probe: probe(['iptables-restore', 'ip6tables-restore'], ['/sbin/fw4'], 'iptables v1.8.7 (legacy)') }).name,
    'iptables-legacy',
  );
  t.throws(() => detectBackend({ probe: probe([]) }), FirewallError);
  const nftOnly = detectBackend({ probe: probe(['iptables-nft-restore', 'ip6tables-nft-restore']) });
  t.ok(nftOnly instanceof IptablesBackend && nftOnly.tool(4, 'save') === 'iptables-nft-save', 'only the -nft names');
  t.equal(detectBackend({ probe: probe(['iptables-legacy-restore', 'ip6tables-legacy-restore']) }).name, 'iptables-legacy');
  t.throws(() => detectBackend({ override: 'iptables', probe: probe(['nft']) }), /backend iptables: no iptables-restore/);
  t.throws(() => detectBackend({ probe: probe(['iptables-restore']) }), /neither nft nor iptables-restore\/ip6tables-restore/);
});

t.test('the site override wins', async (t) => {
  t.equal(detectBackend({ override: 'nft', probe: probe([]) }).name, 'nft');
  const fw = detectBackend({ override: 'iptables', netns: 'ns1', probe: probe(both, ['/sbin/fw4'], 'iptables v1.8.9 (nf_tables)') });
  t.equal(fw.name, 'iptables-nft');
  t.ok(fw instanceof IptablesBackend && fw.options.netns === 'ns1' && fw.tool(6, 'restore') === 'ip6tables-restore', 'plain tool names');
  t.equal(new IptablesBackend({ variant: 'legacy' }).tool(4, 'save'), 'iptables-legacy-save');
  t.ok(['iptables-nft', 'iptables-legacy', 'nft'].includes(detectBackend().name), 'this machine has a backend');
});

t.test('the tools name the failing line in different ways', async (t) => {
  t.equal(failedLine('iptables-restore: line 3 failed'), 3);
  t.equal(failedLine('iptables-restore v1.8.9 (legacy): unknown option\nError occurred at line: 7\n'), 7);
  t.equal(failedLine('/dev/stdin:4:3-9: Error: Could not process rule: No such file or directory'), 4);
  t.equal(failedLine('something else'), 0);
});

t.test('one lock file in /var/lock', async (t) => {
  t.equal(lockPath(), '/var/lock/meshwan-firewall.lock');
});

t.test('a lock that stays taken is a FirewallError, not a hang', async (t) => {
  const dir = t.testdir({});
  const path = `${dir}/x.lock`;
  let release: () => void = () => {};
  let taken: () => void = () => {};
  const isTaken = new Promise<void>((resolve) => {
    taken = resolve;
  });
  const held = withFileLock(
    path,
    'iptables-nft',
    () =>
      new Promise<void>((resolve) => {
        release = resolve;
        taken();
      }),
  );
  await isTaken;
  await t.rejects(
    withFileLock(path, 'iptables-nft', async () => 'never', 1),
    { name: 'FirewallError', backend: 'iptables-nft', message: /was not free within 1 s/ },
  );
  release();
  await held;
  t.equal(await withFileLock(path, 'iptables-nft', async () => 'taken'), 'taken', 'free again once released');
});
