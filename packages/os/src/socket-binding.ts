/**
 * The seam's Sockets over a binding of native/netio.c (netio.node or meshwan:netio): the same functions, binding
 * errors turned into OsError. Only the batch loop's wake-up and fd readiness differ per engine.
 */
import { osError } from './netlink-binding.js';
import type { Sockets } from './socket-api.js';

/**
 * The functions of netio.c both bindings export under the same names: most as the seam declares them, the socket
 * constructors taking any family number (the seam narrows it to IpFamily).
 */
export interface SocketBinding
  extends Pick<
    Sockets,
    'setMark' | 'getMark' | 'localPort' | 'closeFd' | 'ifIndex' | 'addrText' | 'addrBytes' | 'ioAdd' | 'ioRemove' | 'ioSend'
  > {
  udpSocket(family: number, address: Uint8Array, port: number, scopeId: number): number;
  tcpSocket(family: number, mark: number): number;
}

/** What differs per engine: loading the binding, the batch loop's wake-up, readiness. */
export interface SocketEngine {
  binding(): SocketBinding;
  ioOpen: Sockets['ioOpen'];
  ioClose: Sockets['ioClose'];
  onReadable: Sockets['onReadable'];
}

function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err: unknown) {
    throw osError(err);
  }
}

/** The same RangeError on both engines for a port out of range (the bindings word theirs differently). */
function checkPort(port: number, call: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`${call}: port ${port}: expected 0..65535`);
}

export function socketsOver(engine: SocketEngine): Sockets {
  const b = engine.binding;
  return {
    check: () => call(() => void b()),
    udpSocket: (family, address, port, scopeId) => {
      checkPort(port, 'udpSocket');
      return call(() => b().udpSocket(family, address, port, scopeId));
    },
    tcpSocket: (family, mark) => call(() => b().tcpSocket(family, mark)),
    setMark: (fd, mark) => call(() => b().setMark(fd, mark)),
    getMark: (fd) => call(() => b().getMark(fd)),
    localPort: (fd) => call(() => b().localPort(fd)),
    closeFd: (fd) => call(() => b().closeFd(fd)),
    ifIndex: (name) => call(() => b().ifIndex(name)),
    addrText: (family, address, scopeId) => call(() => b().addrText(family, address, scopeId)),
    addrBytes: (family, text, out) => call(() => b().addrBytes(family, text, out)),
    ioOpen: (...args) => call(() => engine.ioOpen(...args)),
    ioAdd: (io, fd, tag) => call(() => b().ioAdd(io, fd, tag)),
    ioRemove: (io, fd) => call(() => b().ioRemove(io, fd)),
    ioSend: (io, count) => call(() => b().ioSend(io, count)),
    ioClose: (io) => call(() => engine.ioClose(io)),
    onReadable: (fd, fn) => call(() => engine.onReadable(fd, fn)),
  };
}
