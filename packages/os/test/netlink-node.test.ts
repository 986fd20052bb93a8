// tier: root: network namespaces, SO_MARK or firewall rules
/**
 * The Node side of the netlink transport in this process: a socket opened in a namespace by path (the setns switch
 * around socket(2)), events by fd readiness for a route `ip` adds there, and the failures callers tell apart.
 */
import t from 'tap';
import { createNamespace } from '../../../test/lib/netns.js';
import { hostLittleEndian, netlink } from '../src/index.js';

const RTMGRP_IPV4_ROUTE = 0x40;

/** nlmsg_type of every message in buf[0, n). */
function types(buf: Uint8Array, n: number): number[] {
  const v = new DataView(buf.buffer, buf.byteOffset, n);
  const out: number[] = [];
  for (let at = 0; at + 16 <= n; at += (v.getUint32(at, hostLittleEndian) + 3) & ~3) out.push(v.getUint16(at + 4, hostLittleEndian));
  return out;
}

t.test('a socket in a namespace by path sees that namespace, by fd readiness', async (t) => {
  const ns = createNamespace(t, 'seamnln');
  ns.ip('link', 'set', 'lo', 'up');
  const events = netlink.open({
    protocol: 0,
    groups: RTMGRP_IPV4_ROUTE,
    netns: `/run/netns/${ns.name}`,
    rcvbufBytes: 1 << 20,
    options: [
      [11, 1],
      [9999, 1], // an option no kernel has: refused, and ignored as an older kernel's would be
    ],
  });
  t.teardown(() => events.close());
  t.ok(events.portid > 0, 'bound, with a port id');
  t.ok(events.receiveBufferBytes() >= 1 << 20, 'SO_RCVBUF(FORCE) applied');
  events.setReceiveBuffer(1 << 21);
  t.ok(events.receiveBufferBytes() >= 1 << 21);
  const buf = new Uint8Array(1 << 16);
  t.equal(events.receive(buf, 0), null, 'nothing waits yet');
  const seen = new Promise<number[]>((resolve) => {
    events.onReadable(() => {
      const got: number[] = [];
      for (let n = events.receive(buf, 0); n !== null; n = events.receive(buf, 0)) got.push(...types(buf, n));
      if (got.length) resolve(got);
    });
  });
  ns.ip('route', 'add', 'blackhole', '198.51.100.0/24');
  t.ok((await seen).includes(24), 'RTM_NEWROUTE of the namespace, not of this one');
  events.onReadable(null);
  events.close();
  events.close();
});

t.test('failures are OsErrors a caller can tell apart', async (t) => {
  const s = netlink.open({ protocol: 0 });
  t.teardown(() => s.close());
  t.throws(() => s.receive(new Uint8Array(64), 10), { name: 'OsError', code: 'ETIMEDOUT', syscall: 'recv' });
  t.throws(() => netlink.open({ protocol: 0, netns: '/nonexistent/netns' }), { code: 'ENOENT', syscall: 'setns' });
  t.throws(() => netlink.open({ protocol: 31 }), { name: 'OsError', code: 'EPROTONOSUPPORT', syscall: 'socket(AF_NETLINK)' });
  t.same([netlink.errnoName(17), netlink.errnoName(-105), netlink.errnoName(99999)], ['EEXIST', 'ENOBUFS', 'E99999']);
});
