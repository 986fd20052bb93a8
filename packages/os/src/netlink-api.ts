/**
 * The seam's netlink transport: AF_NETLINK sockets for @meshwan/netlink, which keeps the codecs, the sequence
 * numbers and the request logic in engine-independent TypeScript. Both engines bind the same C (native/netio.c).
 */

/** How to open a netlink socket. */
export interface NetlinkOpenOptions {
  /** The netlink family: 0 is NETLINK_ROUTE. */
  protocol: number;
  /** Multicast group bitmask for bind() (1 << (RTNLGRP_X - 1)); 0 for requests only. */
  groups?: number;
  /** A network namespace file (/run/netns/NAME, /proc/PID/ns/net): the socket is created in that namespace. */
  netns?: string;
  /** Receive buffer in bytes: SO_RCVBUFFORCE (root), else SO_RCVBUF (capped by net.core.rmem_max). */
  rcvbufBytes?: number;
  /** SOL_NETLINK options set before bind, as [name, value] (NETLINK_EXT_ACK = 11, …); a refusal is ignored. */
  options?: readonly (readonly [number, number])[];
}

/** An open, bound, non-blocking netlink socket. Failures throw OsError (code, errno of this ABI, syscall). */
export interface NetlinkSocket {
  readonly fd: number;
  /** The port id the kernel gave the socket (nlmsghdr.nlmsg_pid of its replies). */
  readonly portid: number;
  /** Sends one message (or a batch of them) to the kernel. */
  send(bytes: Uint8Array): void;
  /**
   * Receives one datagram into `buf`, waiting up to `timeoutMs` (0: not at all, then null when nothing waits).
   * Throws OsError ETIMEDOUT, ENOBUFS (the kernel dropped messages for us), EMSGSIZE (`buf` too small).
   */
  receive(buf: Uint8Array, timeoutMs: number): number | null;
  /** The kernel's SO_RCVBUF (twice what was asked). */
  receiveBufferBytes(): number;
  setReceiveBuffer(bytes: number): void;
  /** Calls `fn` on the event loop whenever the socket is readable (or has an error to read); null stops it. */
  onReadable(fn: (() => void) | null): void;
  close(): void;
}

/** The engine's netlink transport. */
export interface NetlinkTransport {
  open(options: NetlinkOpenOptions): NetlinkSocket;
  /** This ABI's name for an errno number (MIPS numbers many apart from x86), `E<n>` for one not known. */
  errnoName(errno: number): string;
}

/**
 * True on a little-endian host. Netlink messages are in host byte order (big-endian on ath79), so codecs read
 * them with DataView and this flag.
 */
export const hostLittleEndian: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
