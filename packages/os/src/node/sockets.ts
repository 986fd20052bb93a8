/**
 * Sockets over Node: UDP and the batch loop through netio.node (libuv polls the loop's epoll fd and calls back per
 * batch; fd readiness from the addon's watch), streams through node:net, which Node does natively (a marked TCP
 * socket from netio.node is handed to net.Socket by its fd).
 */
import { createConnection, createServer, type Server, Socket } from 'node:net';
import { OsError } from '../errors.js';
import type { IoHandle, Sockets, Stream, StreamAt, StreamEvents, StreamServer, Streams, StreamTo } from '../socket-api.js';
import { type SocketBinding, socketsOver } from '../socket-binding.js';
import { netioAddon } from './addon.js';

interface NodeSocketBinding extends SocketBinding {
  ioOpen(...args: [Uint8Array, Int32Array, Uint8Array, Int32Array, number, (count: number) => void]): IoHandle;
  ioClose(io: IoHandle): void;
  watch(fd: number, fn: () => void): object;
  unwatch(handle: object): void;
}

const addon = (): NodeSocketBinding => netioAddon<NodeSocketBinding>();
const watches = new Map<number, object>();

export const sockets: Sockets = socketsOver({
  binding: addon,
  ioOpen: (...args) => addon().ioOpen(...args),
  ioClose: (io) => addon().ioClose(io),
  onReadable: (fd, fn) => {
    const old = watches.get(fd);
    if (old !== undefined) addon().unwatch(old);
    watches.delete(fd);
    if (fn !== null) watches.set(fd, addon().watch(fd, fn));
  },
});

/** A node:net error as the seam's OsError. */
function netError(err: Error, fallback: string): OsError {
  const code = Reflect.get(err, 'code');
  const errno = Reflect.get(err, 'errno');
  const syscall = Reflect.get(err, 'syscall');
  return new OsError(
    typeof code === 'string' ? code : 'EIO',
    typeof errno === 'number' ? Math.abs(errno) : 0,
    typeof syscall === 'string' ? syscall : fallback,
  );
}

function wrap(socket: Socket, events: StreamEvents): Stream {
  let failure: OsError | undefined;
  socket.on('data', (chunk: Buffer) => events.onData(chunk));
  socket.on('error', (err) => {
    failure ??= netError(err, 'read');
  });
  socket.on('close', () => events.onClose(failure));
  return {
    get remoteAddress() {
      return socket.remoteAddress ?? '';
    },
    get pendingBytes() {
      return socket.writableLength;
    },
    write: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    end: () => {
      socket.end();
    },
    close: () => {
      socket.destroy();
    },
    pause: () => {
      socket.pause();
    },
    resume: () => {
      socket.resume();
    },
  };
}

export const streams: Streams = {
  listen: (at: StreamAt, onConnection: (stream: Stream) => StreamEvents): Promise<StreamServer> => {
    const server: Server = createServer({ pauseOnConnect: true }, (socket) => {
      socket.setNoDelay(true);
      let events: StreamEvents | undefined;
      const stream = wrap(socket, {
        onData: (chunk) => events?.onData(chunk),
        onClose: (err) => events?.onClose(err),
      });
      events = onConnection(stream);
      socket.resume();
    });
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(netError(err, 'listen')));
      const ready = (): void => {
        const address = server.address();
        resolve({ port: typeof address === 'object' && address !== null ? address.port : 0, close: () => server.close() });
      };
      if ('path' in at) server.listen(at.path, ready);
      else server.listen({ port: at.port, host: at.address, ipv6Only: at.family === 6, exclusive: true }, ready);
    });
  },
  connect: (to: StreamTo, events: StreamEvents): Stream => {
    let socket: Socket;
    const connected = (): void => events.onConnect?.();
    if ('path' in to) socket = createConnection(to.path, connected);
    else {
      socket =
        to.fd === undefined
          ? new Socket()
          : new Socket({ fd: to.fd, readable: true, writable: true, pauseOnCreate: true } as ConstructorParameters<typeof Socket>[0]);
      const host = to.scope ? `${to.address}%${to.scope}` : to.address;
      socket.connect(to.port, host, () => {
        socket.setNoDelay(true);
        socket.resume();
        connected();
      });
    }
    return wrap(socket, events);
  },
};
