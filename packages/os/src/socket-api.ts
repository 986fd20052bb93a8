/**
 * Sockets on the seam: marked UDP sockets and the recvmmsg/sendmmsg batch loop of native/netio.c (the same
 * functions on both engines), fd readiness, and byte streams (TCP listen/accept/connect, unix control sockets).
 * Every failure throws OsError (code, this ABI's errno, syscall).
 */
import type { OsError } from './errors.js';
import type { IpFamily } from './ip-family.js';

/** An open batch loop (ioOpen); opaque. */
export type IoHandle = { readonly __io: unique symbol };

/** UDP and the batch loop: thin calls into native/netio.c (records: native/netio.h). */
export interface Sockets {
  /** Throws OsError when the engine's binding is missing (Node: `ENOENT dlopen` naming where netio.node was looked for). */
  check(): void;
  /** A bound, non-blocking UDP socket (an IPv6 one is IPv6-only). */
  udpSocket(family: IpFamily, address: Uint8Array, port: number, scopeId: number): number;
  /** A non-blocking TCP socket carrying `mark` before its SYN (connect it with streams.connect({ fd })). */
  tcpSocket(family: IpFamily, mark: number): number;
  /** SO_MARK: needs CAP_NET_ADMIN; qemu-user fails it with ENOPROTOOPT. */
  setMark(fd: number, mark: number): void;
  getMark(fd: number): number;
  localPort(fd: number): number;
  closeFd(fd: number): void;
  /** if_nametoindex; 0 for no such interface. */
  ifIndex(name: string): number;
  /** inet_ntop, `fe80::1%eth0` for a scoped address. */
  addrText(family: number, address: Uint8Array, scopeId: number): string;
  /** inet_pton into `out` (16 bytes, zero-padded); false when `text` is not an address of `family`. */
  addrBytes(family: number, text: string, out: Uint8Array): boolean;
  /** A batch loop over an epoll set: `onBatch(count)` after each recvmmsg drain into recvBuf/recvMeta. */
  ioOpen(
    recvBuf: Uint8Array,
    recvMeta: Int32Array,
    sendBuf: Uint8Array,
    sendMeta: Int32Array,
    slot: number,
    onBatch: (count: number) => void,
  ): IoHandle;
  ioAdd(io: IoHandle, fd: number, tag: number): void;
  ioRemove(io: IoHandle, fd: number): void;
  /** Sends the first `count` queued records (sendmmsg); returns how many the kernel refused. */
  ioSend(io: IoHandle, count: number): number;
  ioClose(io: IoHandle): void;
  /** Calls `fn` whenever `fd` is readable; null stops. */
  onReadable(fd: number, fn: (() => void) | null): void;
}

/** Where a stream server listens: a TCP address (IPv6: IPv6-only) or a unix socket path. */
export type StreamAt = { family: IpFamily; address: string; port: number } | { path: string };

/**
 * Where a stream connects: a TCP address (`scope`: the interface of a link-local IPv6 one; with `fd`, a socket from
 * sockets.tcpSocket: marked) or a unix path.
 */
export type StreamTo = { family: IpFamily; address: string; port: number; scope?: string; fd?: number } | { path: string };

/** What a stream tells its owner. */
export interface StreamEvents {
  /** connect() only: the connection is up. */
  onConnect?(): void;
  /** Bytes read; the chunk is the receiver's to keep. */
  onData(chunk: Uint8Array): void;
  /** Closed, by either side; `err` when it failed (ECONNREFUSED, ECONNRESET). Called once. */
  onClose(err: OsError | undefined): void;
}

export interface Stream {
  /** The peer's address as text ('' for a unix socket). */
  readonly remoteAddress: string;
  /** Bytes written but not yet taken by the kernel. */
  readonly pendingBytes: number;
  write(bytes: Uint8Array): void;
  /** Closes the sending side once everything written has left; the stream closes when the peer ends too. */
  end(): void;
  /** Closes at once, dropping what was not sent. */
  close(): void;
  /** Stops reading (back-pressure) until resume(). */
  pause(): void;
  resume(): void;
}

export interface StreamServer {
  /** The bound port (TCP; 0 for a unix socket). */
  readonly port: number;
  /** Stops accepting; open streams stay open. */
  close(): void;
}

export interface Streams {
  /** Listens; each accepted connection goes to `onConnection`, which returns its events. OsError when it cannot. */
  listen(at: StreamAt, onConnection: (stream: Stream) => StreamEvents): Promise<StreamServer>;
  /** Connects; failures arrive as onClose(err), never as a throw after the call returned. */
  connect(to: StreamTo, events: StreamEvents): Stream;
}
