/**
 * Sockets over meshwan:netio, readiness from QuickJS's own loop (os.setReadHandler / setWriteHandler): the batch
 * loop's epoll fd is watched and drained with ioDrain; streams are non-blocking fds read when readable and written
 * until EAGAIN, the rest when writable. One loop, no thread.
 */
import * as netio from 'meshwan:netio';
import * as os from 'os';
import { OsError } from '../errors.js';
import type { IpFamily } from '../ip-family.js';
import { osError } from '../netlink-binding.js';
import type { Sockets, Stream, StreamAt, StreamEvents, StreamServer, Streams, StreamTo } from '../socket-api.js';
import { type SocketBinding, socketsOver } from '../socket-binding.js';

const binding: SocketBinding = netio;

export const sockets: Sockets = socketsOver({
  binding: () => binding,
  ioOpen: (recvBuf, recvMeta, sendBuf, sendMeta, slot, onBatch) => {
    const io = netio.ioOpen(recvBuf, recvMeta, sendBuf, sendMeta, slot);
    os.setReadHandler(netio.ioFd(io), () => {
      const count = netio.ioDrain(io);
      if (count > 0) onBatch(count);
    });
    return io;
  },
  ioClose: (io) => {
    os.setReadHandler(netio.ioFd(io), null);
    netio.ioClose(io);
  },
  onReadable: (fd, fn) => os.setReadHandler(fd, fn),
});

const READ_BYTES = 16384;

const asOsError = (err: unknown): OsError => (err instanceof OsError ? err : new OsError('EIO', 5, String(err)));

function addressBytes(family: IpFamily, address: string, syscall: string): Uint8Array {
  const out = new Uint8Array(16);
  if (!netio.addrBytes(family, address, out)) throw new OsError('EINVAL', 22, `${syscall} ${address}`);
  return out;
}

/** The stream over one connected (or connecting) non-blocking fd. */
class FdStream implements Stream {
  private queue: Uint8Array[] = [];
  pendingBytes = 0;
  private ending = false;
  private peerEnded = false;
  private closed = false;
  private paused = false;
  private connecting = false;

  constructor(
    private readonly fd: number,
    readonly remoteAddress: string,
    private events: StreamEvents,
  ) {}

  setEvents(events: StreamEvents): void {
    this.events = events;
  }

  /** A non-blocking connect in progress: the fd turns writable when it ends. */
  waitConnected(): void {
    this.connecting = true;
    os.setWriteHandler(this.fd, () => {
      os.setWriteHandler(this.fd, null);
      this.connecting = false;
      const errno = netio.socketError(this.fd);
      if (errno !== 0)
        return this.fail(osError(Object.assign(new Error('connect'), { errno, code: netio.errnoCode(errno), syscall: 'connect' })));
      this.connected();
    });
  }

  connected(): void {
    this.events.onConnect?.();
    this.startReading();
    this.flush();
  }

  startReading(): void {
    if (!this.closed && !this.paused && !this.peerEnded) os.setReadHandler(this.fd, () => this.readable());
  }

  private readable(): void {
    const buf = new Uint8Array(READ_BYTES);
    let n: number | null;
    try {
      n = netio.recv(this.fd, buf);
    } catch (err: unknown) {
      this.fail(osError(err));
      return;
    }
    if (n === null) return;
    if (n === 0) {
      // The peer ended: answer what is queued, then close (Node's allowHalfOpen: false).
      this.peerEnded = true;
      os.setReadHandler(this.fd, null);
      this.end();
      return;
    }
    this.events.onData(buf.subarray(0, n));
  }

  write(bytes: Uint8Array): void {
    if (this.closed || this.ending) return;
    this.queue.push(bytes.slice());
    this.pendingBytes += bytes.length;
    if (!this.connecting) this.flush();
  }

  private flush(): void {
    while (this.queue.length > 0 && !this.closed) {
      const head = this.queue[0] as Uint8Array;
      let sent: number;
      try {
        sent = netio.send(this.fd, head);
      } catch (err: unknown) {
        const e = osError(err);
        if (e instanceof OsError && (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK')) {
          os.setWriteHandler(this.fd, () => this.flush());
          return;
        }
        this.fail(e);
        return;
      }
      this.pendingBytes -= sent;
      if (sent < head.length) this.queue[0] = head.subarray(sent);
      else this.queue.shift();
    }
    if (this.closed) return;
    os.setWriteHandler(this.fd, null);
    if (this.ending) this.finish();
  }

  /** Everything written has left: shut the sending side; closed once the peer has ended too. */
  private finish(): void {
    if (this.peerEnded) {
      this.close();
      return;
    }
    try {
      netio.shutdown(this.fd);
    } catch (err: unknown) {
      this.fail(osError(err));
    }
  }

  end(): void {
    if (this.closed) return;
    this.ending = true;
    if (!this.connecting && this.queue.length === 0) this.finish();
  }

  /** Closes with `err` (a connect that failed at once, reported after the caller has its stream). */
  abort(err: unknown): void {
    this.fail(err);
  }

  private fail(err: unknown): void {
    this.shut(asOsError(err));
  }

  close(): void {
    this.shut(undefined);
  }

  private shut(err: OsError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    os.setReadHandler(this.fd, null);
    os.setWriteHandler(this.fd, null);
    netio.closeFd(this.fd);
    this.queue = [];
    this.pendingBytes = 0;
    this.events.onClose(err);
  }

  pause(): void {
    this.paused = true;
    if (!this.closed) os.setReadHandler(this.fd, null);
  }

  resume(): void {
    this.paused = false;
    if (!this.connecting) this.startReading();
  }
}

const noEvents: StreamEvents = { onData: () => {}, onClose: () => {} };

export const streams: Streams = {
  listen: async (at: StreamAt, onConnection: (stream: Stream) => StreamEvents): Promise<StreamServer> => {
    let fd: number;
    try {
      fd = 'path' in at ? netio.unixListen(at.path) : netio.tcpListen(at.family, addressBytes(at.family, at.address, 'listen'), at.port, 0);
    } catch (err: unknown) {
      throw osError(err);
    }
    const peer = new Int32Array(netio.REC);
    const peerBytes = new Uint8Array(peer.buffer, 32, 16);
    os.setReadHandler(fd, () => {
      for (;;) {
        let conn: number | null;
        try {
          conn = netio.accept(fd, peer);
        } catch {
          // ECONNABORTED, EMFILE: this connection is lost, the listener stays.
          return;
        }
        if (conn === null) return;
        const remote = 'path' in at ? '' : netio.addrText(peer[3] as number, peerBytes, peer[5] as number);
        const stream = new FdStream(conn, remote, noEvents);
        stream.setEvents(onConnection(stream));
        stream.startReading();
      }
    });
    const port = 'path' in at ? 0 : netio.localPort(fd);
    let open = true;
    return {
      port,
      close: () => {
        if (!open) return;
        open = false;
        os.setReadHandler(fd, null);
        netio.closeFd(fd);
      },
    };
  },
  connect: (to: StreamTo, events: StreamEvents): Stream => {
    if ('path' in to) {
      let fd: number;
      try {
        fd = netio.unixConnect(to.path);
      } catch (err: unknown) {
        const stream = new FdStream(-1, '', noEvents);
        // Failures arrive as onClose, as on Node: after the caller has its stream.
        os.setTimeout(() => events.onClose(asOsError(osError(err))), 0);
        return stream;
      }
      const stream = new FdStream(fd, '', events);
      os.setTimeout(() => stream.connected(), 0);
      return stream;
    }
    let fd = to.fd ?? -1;
    const stream = (): FdStream => new FdStream(fd, to.address, events);
    try {
      if (fd < 0) fd = netio.tcpSocket(to.family, 0);
      const s = stream();
      const now = netio.connect(
        fd,
        to.family,
        addressBytes(to.family, to.address, 'connect'),
        to.port,
        to.scope ? netio.ifIndex(to.scope) : 0,
      );
      if (now) os.setTimeout(() => s.connected(), 0);
      else s.waitConnected();
      return s;
    } catch (err: unknown) {
      const s = stream();
      os.setTimeout(() => (fd >= 0 ? s.abort(osError(err)) : events.onClose(asOsError(osError(err)))), 0);
      return s;
    }
  },
};
