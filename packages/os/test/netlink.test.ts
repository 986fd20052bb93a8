// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The seam's netlink transport, one program on every engine: Node (netio.node), meshwan-js here and meshwan-js for
 * big-endian MIPS under qemu-user, each inside a fresh network namespace, must see the same.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createNamespace } from '../../../test/lib/netns.js';
import { bundleFixture, type Runtime, runBundle, scratch } from './lib/seam.js';

const runtimes: Runtime[] = ['node', 'host', 'mips_24kc'];

t.test('open, dump, events by fd readiness and typed failures behave the same on every engine', async (t) => {
  const dir = scratch(t);
  // a Node bundle loads netio.node from beside it, where mk/stage.mjs installs it
  copyFileSync(fileURLToPath(new URL('../build/netio.node', import.meta.url)), join(dir, 'netio.node'));
  const ns = createNamespace(t, 'seamnl');
  ns.ip('link', 'set', 'lo', 'up');
  ns.ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  for (const runtime of runtimes) {
    const bundle = await bundleFixture('netlink.ts', runtime, dir);
    const ran = await runBundle(bundle, runtime, [], {}, ['ip', 'netns', 'exec', ns.name]);
    t.equal(ran.status, 0, `${runtime}: exits 0 (${ran.stderr})`);
    t.same(
      JSON.parse(ran.stdout),
      {
        portids: true,
        rcvbuf: true,
        links: 3,
        drained: null,
        timeout: 'ETIMEDOUT recv',
        badNetns: 'ENOENT setns',
        names: ['EEXIST', 'ENOENT', 'E99999'],
        ack: true,
        events: 'ok',
        order: [24, 25],
      },
      runtime,
    );
  }
});
