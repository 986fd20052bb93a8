/** The assertions every engine build must pass on the probe's result: one conformance check for every target. */
import type { Test } from 'tap';
import type { Namespace } from '../../../../test/lib/netns.js';
import { compileProbe, ipRouteCount, type ProbeResult, probe, probeSource, routedNamespace, type Target, underQemu } from './probe.js';

function check(t: Test, target: Target, got: ProbeResult, ns: Namespace): void {
  t.equal(got.exchange.sent, 4, 'the datagram left');
  t.equal(got.exchange.received, 'ping', 'and arrived on the peer socket (readiness through os.setReadHandler)');
  t.same(got.exchange.device, { value: 'lo' }, 'SO_BINDTODEVICE');
  if (underQemu(target)) {
    // qemu-user 7.2 has no translation for SO_MARK: README.md names it. If this starts to pass, say so there.
    t.same(got.exchange.mark, { error: 'ENOPROTOOPT', syscall: 'setsockopt(SO_MARK)' }, 'qemu-user refuses SO_MARK, loudly');
  } else {
    t.same(got.exchange.mark, { value: 1 }, 'SO_MARK 0x1 set and read back with getsockopt');
    t.same(got.badFd, { code: 'EBADF', syscall: 'getsockname' }, 'a bad fd throws with errno code and syscall');
  }
  t.match(got.batch, { sent: 20, refused: 0, received: 20, inOrder: true }, 'sendmmsg then recvmmsg: every datagram, in order');
  t.ok(got.batch.largest >= 2, `recvmmsg returned a batch (${got.batch.largest} in one call)`);
  t.equal(got.dump.routes, ipRouteCount(ns), 'RTM_GETROUTE dump: as many IPv4 routes as ip route show table all');
  t.ok(got.dump.routes > 400, 'over several netlink messages');
  t.same(
    got.monitor,
    { added: 0, deleted: 0, events: [24, 25] },
    'RTM_NEWROUTE and RTM_DELROUTE acked, and seen by a RTMGRP_IPV4_ROUTE socket',
  );
  t.equal(got.littleEndian, target !== 'mips_24kc', 'the byte order of the target');
}

/** Runs the probe on `target` from source and from host-compiled bytecode, in a namespace of its own. */
export async function conformance(t: Test, target: Target): Promise<void> {
  const ns = routedNamespace(t);
  const bytecode = await compileProbe(t);
  await t.test(`${target}: source`, async (t) => check(t, target, await probe(ns, target, probeSource), ns));
  await t.test(`${target}: bytecode compiled on the host`, async (t) => check(t, target, await probe(ns, target, bytecode), ns));
}
