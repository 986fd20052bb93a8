/**
 * Netlink over netio.node (native/netio-napi.c, the same C as meshwan-js binds); readiness from a libuv poll
 * watcher in the addon. Loaded on first use: ../../build/netio.node from dist/node/, or ./netio.node next to a
 * bundle (mk/stage.mjs copies it there).
 */
import { createRequire } from 'node:module';
import { OsError } from '../errors.js';
import type { NetlinkTransport } from '../netlink-api.js';
import { type NetlinkBinding, netlinkTransport } from '../netlink-binding.js';

interface NodeBinding extends NetlinkBinding {
  watch(fd: number, fn: () => void): object;
  unwatch(handle: object): void;
}

function load(): NodeBinding {
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const candidate of ['../../build/netio.node', './netio.node']) {
    const path = new URL(candidate, import.meta.url).pathname;
    tried.push(path);
    try {
      return require(path) as NodeBinding;
    } catch (err: unknown) {
      if (!(err instanceof Error && 'code' in err && err.code === 'MODULE_NOT_FOUND')) throw err;
    }
  }
  // ENOENT as the seam's error: the addon is a missing part (run make native), named with where it was looked for.
  throw new OsError('ENOENT', 2, 'dlopen', tried.join(', '));
}

let binding: NodeBinding | undefined;
function addon(): NodeBinding {
  binding ??= load();
  return binding;
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
