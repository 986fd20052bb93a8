// tier: root: network namespaces, SO_MARK or firewall rules
import t from 'tap';
import { isRoot, stopProcess } from '../../../test/lib/netns.js';
import { requireParts } from '../../../test/lib/require.js';
import { startForwarder } from './lib/forwarder.js';
import { createNode, meshwan } from './lib/node.js';

t.setTimeout(120_000);
requireParts(isRoot() ? false : 'needs root for network namespaces');

interface Report {
  ok: boolean;
  findings: { code: string; what: string; fix: string }[];
}

t.test('check: ok on a split node; each break is reported with how to fix it, exit 1', async (t) => {
  const n = createNode(t);
  const before = meshwan(n, ['check', '--json']);
  t.equal(before.status, 1);
  const raw = JSON.parse(before.stdout) as Report;
  const codes = new Set(raw.findings.map((f) => f.code));
  for (const c of ['unreachable-route-missing', 'marked-not-routed', 'wan-route-in-main', 'redirect-missing', 'forwarder-not-listening']) {
    t.ok(codes.has(c), `before apply: ${c}`);
  }
  t.equal(meshwan(n, ['apply']).status, 0);
  const forwarder = await startForwarder(t, n.node);
  const ok = meshwan(n, ['check']);
  t.equal(ok.status, 0, ok.stdout);
  t.match(ok.stdout, /^ok: unmarked packets cannot reach the WAN table/m);

  // Take the gate away: netifd's rules alone let unmarked packets into table 1 (gluon #520).
  n.node.ip('-6', 'rule', 'del', 'pref', '9000');
  n.node.ip('-6', 'rule', 'del', 'pref', '9001');
  const leak = meshwan(n, ['check']);
  t.equal(leak.status, 1);
  t.match(
    leak.stdout,
    /FAIL unmarked-reaches-wan-table: unmarked IPv6 packet .* reaches the WAN table \(gluon #520\)\n {5}fix: run `meshwan apply`/,
  );

  await stopProcess(forwarder);
  const json = JSON.parse(meshwan(n, ['check', '--json']).stdout) as Report;
  t.ok(json.findings.some((f) => f.code === 'forwarder-not-listening' && /udp 127.0.0.1:54/.test(f.what)));
  t.equal(json.ok, false);
});
