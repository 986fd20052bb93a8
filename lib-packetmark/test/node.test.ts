// tier: root: network namespaces, SO_MARK or firewall rules
// Node's own sockets, read back directly: ss -e shows each socket's fwmark. A Node process under the library (libuv
// opens sockets with SOCK_NONBLOCK|SOCK_CLOEXEC) has every dgram and net socket marked, including the connection a
// server accepted (the kernel copies the listener's mark); the same script without the library has none.
// Runs in its own namespace so only this process's sockets are listed. Routing proof: routing.test.ts.
import t from 'tap';
import { createNamespace, isRoot, type Namespace, type Teardowns, waitFor } from '../../test/lib/netns.js';
import { requireParts } from '../../test/lib/require.js';
import { childEnv } from './lib/probe.js';

requireParts(isRoot() ? false : 'needs root (network namespaces)');
const script = new URL('./fixtures/node-sockets.mjs', import.meta.url).pathname;

async function socketsOf(t: Teardowns, ns: Namespace, env: Record<string, string>): Promise<string[]> {
  const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const child = ns.spawn(t, 'env', ['-i', ...pairs, process.execPath, script]);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.resume();
  await waitFor('node-sockets ready', () => /ready \d+/.test(out));
  const pid = /ready (\d+)/.exec(out)?.[1];
  const lines = ns
    .exec('ss', '-Htuanep')
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`));
  child.stdin?.end();
  return lines;
}

t.test('every dgram and net socket of a Node process under the library carries the mark', async (t) => {
  const ns = createNamespace(t, 'pmn');
  const lines = await socketsOf(t, ns, childEnv({ LIBPACKETMARK_MARK: '0x1' }));
  const kinds = lines.map((l) => l.split(/\s+/)[0]).sort();
  t.same(kinds, ['tcp', 'tcp', 'tcp', 'udp', 'udp'], 'udp4, udp6, listener, client, accepted');
  for (const line of lines) t.match(line, /fwmark:0x1\b/, line.replace(/\s+/g, ' ').slice(0, 80));
  const plain = await socketsOf(t, ns, childEnv({}, false));
  t.equal(plain.length, 5);
  for (const line of plain) t.notMatch(line, /fwmark:/, 'without the library: no mark');
});
