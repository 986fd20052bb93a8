/** Netlink over netio.node (./addon.ts); readiness from a libuv poll watcher in the addon. */
import type { NetlinkTransport } from '../netlink-api.js';
import { type NetlinkBinding, netlinkTransport } from '../netlink-binding.js';
import { netioAddon } from './addon.js';

interface NodeBinding extends NetlinkBinding {
  watch(fd: number, fn: () => void): object;
  unwatch(handle: object): void;
}

function addon(): NodeBinding {
  return netioAddon<NodeBinding>();
}

/** A binding that loads netio.node on its first call, so importing @meshwan/os needs no addon. */
const lazy: NetlinkBinding = {
  netlinkOpen: (protocol, netns) => addon().netlinkOpen(protocol, netns),
  netlinkBind: (fd, groups) => addon().netlinkBind(fd, groups),
  netlinkOption: (fd, name, value) => addon().netlinkOption(fd, name, value),
  setRcvbuf: (fd, bytes) => addon().setRcvbuf(fd, bytes),
  getRcvbuf: (fd) => addon().getRcvbuf(fd),
  send: (fd, bytes) => addon().send(fd, bytes),
  recvWait: (fd, bytes, timeoutMs) => addon().recvWait(fd, bytes, timeoutMs),
  closeFd: (fd) => addon().closeFd(fd),
  errnoCode: (errno) => addon().errnoCode(errno),
};

export const netlink: NetlinkTransport = netlinkTransport(lazy, (fd, fn) => {
  const handle = addon().watch(fd, fn);
  return () => addon().unwatch(handle);
});
