// tier: root: network namespaces, SO_MARK or firewall rules
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isRoot, stopProcess, waitFor } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { cliEnv, createNode, gluonNetworkText, meshwanBin } from './lib/node.js';

t.setTimeout(120_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');

t.test('daemon without the monitor polls; a config change is picked up; a broken one keeps the last good', async (t) => {
  const n = createNode(t);
  const env = cliEnv({ MESHWAN_MONITOR: 'off', MESHWAN_FIREWALL: 'none', MESHWAN_POLL_MS: '100' });
  const child = n.node.spawn(t, process.execPath, [meshwanBin, 'daemon', '--root', n.root], { env });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  await waitFor('the daemon to watch', () => log.includes('watching (polling)'), 60_000);
  n.node.ip('-6', 'rule', 'del', 'pref', '9002');
  await waitFor('the marked gate to come back', () => n.node.ip('-6', 'rule').includes('9002:'));

  // A new rule6 section naming table 1: the daemon notices the file changed and installs it like netifd.
  writeFileSync(
    join(n.root, 'etc/config/network'),
    `${gluonNetworkText}\nconfig rule6 'extra'\n\toption dest '2001:db8:55::/48'\n\toption lookup '1'\n\toption priority '500'\n`,
  );
  await waitFor('the new rule', () => n.node.ip('-6', 'rule').includes('500:\tfrom all to 2001:db8:55::/48 lookup 1'));
  // Removing it again: netifd does not run and the rule has netifd's shape (proto unspec, table 1): meshwan's, it goes.
  writeFileSync(join(n.root, 'etc/config/network'), gluonNetworkText);
  await waitFor('the rule to go', () => !n.node.ip('-6', 'rule').includes('500:'));
  // A config that cannot be parsed keeps the last good one enforced.
  writeFileSync(join(n.root, 'etc/config/network'), "config interface 'wan6\n");
  await waitFor('the reload to be refused', () => log.includes('config not reloaded, keeping the last good one'));
  n.node.ip('-6', 'rule', 'del', 'pref', '9001');
  await waitFor('the gate to come back anyway', () => n.node.ip('-6', 'rule').includes('9001:'));

  child.kill('SIGHUP');
  await stopProcess(child);
  t.equal(child.exitCode, 0);
  t.match(log, /repair: add rule 9002:/);
  t.match(log, /repair: add rule 500: from all to 2001:db8:55::\/48 lookup 1$/m);
  t.match(log, /repair: delete rule 500:/);
});
