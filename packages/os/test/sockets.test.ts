// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The seam's sockets on every engine: one program (test/fixtures/sockets.ts) bundled for Node and for QuickJS
 * and run on Node, on meshwan-js here and on meshwan-js for big-endian MIPS under qemu-user: UDP through the
 * batch loop, a marked TCP connection, a unix stream, a refused connect and argument errors.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { bundleFixture, type Runtime, runBundle, scratch } from './lib/seam.js';

const expected = {
  udpMark: { value: 1 },
  udpRefused: 0,
  udp: { echoed: ['one', 'two', 'three'], from: '127.0.0.1' },
  tcpMark: { value: 1 },
  tcp: { got: 'HELLO WORLD', err: null },
  refused: { code: 'ECONNREFUSED', syscall: 'connect' },
  unix: { got: 'status', err: null },
  unixMissing: { code: 'ENOENT', syscall: 'connect' },
  badPort: 'udpSocket: port 70000: expected 0..65535',
  badFd: { code: 'EBADF', syscall: 'getsockname' },
};

// qemu-user 7.2 (README): no SO_MARK (ENOPROTOOPT), and SO_ERROR's value passed through untranslated (the host's
// 111 is not MIPS's ECONNREFUSED, 146). A qemu that learns either fails this, and the README gets updated.
const underQemu = {
  ...expected,
  udpMark: { code: 'ENOPROTOOPT', syscall: 'setsockopt(SO_MARK)' },
  tcpMark: { code: 'ENOPROTOOPT', syscall: 'setsockopt(SO_MARK)' },
  refused: { code: 'E111', syscall: 'connect' },
};

for (const runtime of ['node', 'host', 'mips_24kc'] satisfies Runtime[]) {
  t.test(`${runtime}: UDP batches, marked TCP, unix streams and failures through the seam`, async (t) => {
    const dir = scratch(t);
    const bundle = await bundleFixture('sockets.ts', runtime, dir);
    // a Node bundle finds netio.node beside it, as mk/stage.mjs installs it
    if (runtime === 'node') copyFileSync(fileURLToPath(new URL('../build/netio.node', import.meta.url)), join(dir, 'netio.node'));
    const ran = await runBundle(bundle, runtime, [join(dir, 'control.sock')]);
    t.equal(ran.status, 0, `exit (${ran.stderr})`);
    t.same(JSON.parse(ran.stdout), runtime === 'mips_24kc' ? underQemu : expected);
  });
}
