/**
 * The one place that opens an rtnetlink socket. Requests are synchronous (send, then read the kernel's replies
 * with a poll timeout): rtnetlink answers in microseconds and a dump is flow-controlled by our reads.
 * The Monitor uses watch() for multicast events instead.
 */

import {
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_GET_STRICT_CHK,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOL_NETLINK,
  SOL_SOCKET,
} from './codec/constants.js';
import { decodeError, decodeHeader, type MessageHeader, type MessageWriter } from './codec/message.js';
import { NetlinkError } from './errors.js';
import { type Addon, loadAddon, type WatchHandle } from './native.js';

export interface SocketOptions {
  /** a network namespace file, e.g. /run/netns/NAME or /proc/PID/ns/net: the socket lives there */
  netns?: string;
  /** multicast group bitmask for bind() (1 << (RTNLGRP_X - 1)) */
  groups?: number;
  /** receive buffer in bytes; set with SO_RCVBUFFORCE (root), falling back to SO_RCVBUF */
  rcvbufBytes?: number;
  /** how long a request waits for the kernel's reply before ETIMEDOUT */
  timeoutMs?: number;
}

/** Called for each reply message; `offset` is the nlmsghdr, `end` its end. */
export type Visit = (buf: Buffer, header: MessageHeader, offset: number, end: number) => void;

/** Thrown inside dump() when the kernel flags NLM_F_DUMP_INTR; dump() retries, callers never see it. */
class DumpInterrupted extends Error {}

const RECV_BYTES = 1 << 20;

export class NetlinkSocket {
  readonly portid: number;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly buf = Buffer.allocUnsafe(RECV_BYTES);
  private closed = false;
  private watchHandle: WatchHandle | undefined;
  /** How many dumps were restarted because the kernel flagged NLM_F_DUMP_INTR (for tests and diagnostics). */
  interruptedDumps = 0;

  private constructor(
    private readonly addon: Addon,
    readonly fd: number,
    private readonly timeoutMs: number,
  ) {
    this.portid = 0;
  }

  static open(options: SocketOptions = {}): NetlinkSocket {
    const addon = loadAddon();
    const fd = addon.open(NETLINK_ROUTE, options.netns ?? null);
    if (fd < 0) throw new NetlinkError(-fd, 'open', options.netns ?? '');
    const sock = new NetlinkSocket(addon, fd, options.timeoutMs ?? 10_000);
    try {
      if (options.rcvbufBytes !== undefined) sock.setReceiveBuffer(options.rcvbufBytes);
      // Extended acks give the kernel's reason; strict checking makes dump filters (table) apply in the kernel;
      // capped acks keep error replies small. Failures are harmless on old kernels, so they are not fatal.
      addon.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
      addon.setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
      addon.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
      const portid = addon.bind(fd, options.groups ?? 0);
      if (portid < 0) throw new NetlinkError(-portid, 'bind', `groups 0x${(options.groups ?? 0).toString(16)}`);
      (sock as { portid: number }).portid = portid;
    } catch (err: unknown) {
      addon.close(fd);
      throw err;
    }
    return sock;
  }

  /** SO_RCVBUFFORCE (needs CAP_NET_ADMIN), else SO_RCVBUF (capped by net.core.rmem_max). */
  setReceiveBuffer(bytes: number): void {
    let r = this.addon.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes);
    if (r < 0) r = this.addon.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, bytes);
    if (r < 0) throw new NetlinkError(-r, 'setsockopt', `SO_RCVBUF ${bytes}`);
  }

  /** The kernel's SO_RCVBUF (twice what was asked, for bookkeeping overhead). */
  receiveBufferBytes(): number {
    return this.addon.getsockopt(this.fd, SOL_SOCKET, SO_RCVBUF);
  }

  nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  send(bytes: Buffer, op: string, request: string): void {
    const n = this.addon.send(this.fd, bytes, bytes.length);
    if (n < 0) throw new NetlinkError(-n, op, request);
  }

  /** Reads one datagram; returns its length, or -errno (-EAGAIN when empty and timeoutMs is 0). */
  receive(timeoutMs: number): { length: number; buf: Buffer } {
    return { length: this.addon.recv(this.fd, this.buf, timeoutMs), buf: this.buf };
  }

  /**
   * Sends one request and visits every reply with its sequence number until NLMSG_DONE (dumps) or the ack.
   * Throws NetlinkError for NLMSG_ERROR with a negative code.
   */
  private exchange(writer: MessageWriter, flags: number, op: string, request: string, visit?: Visit): void {
    const seq = this.nextSeq();
    const bytes = writer.finish(seq);
    bytes.writeUInt16LE(bytes.readUInt16LE(6) | flags | NLM_F_REQUEST, 6);
    this.send(bytes, op, request);
    const isDump = (flags & NLM_F_DUMP) === NLM_F_DUMP;
    let interrupted = false;
    for (;;) {
      const n = this.addon.recv(this.fd, this.buf, this.timeoutMs);
      if (n < 0) throw new NetlinkError(-n, op, request);
      let at = 0;
      while (at < n) {
        const h = decodeHeader(this.buf, at, n);
        const end = at + h.length;
        if (h.seq === seq && h.pid === this.portid) {
          if (h.flags & NLM_F_DUMP_INTR) interrupted = true;
          if (h.type === NLMSG_ERROR) {
            const e = decodeError(this.buf, h, at);
            if (e.error < 0) throw new NetlinkError(-e.error, op, request, e.message);
            if (!isDump) return;
          } else if (h.type === NLMSG_DONE) {
            const code = h.length >= 20 ? this.buf.readInt32LE(at + 16) : 0;
            if (code < 0) throw new NetlinkError(-code, op, request);
            if (interrupted) throw new DumpInterrupted();
            return;
          } else if (h.type !== NLMSG_NOOP && h.type !== NLMSG_OVERRUN) {
            visit?.(this.buf, h, at, end);
            if (!isDump && !(flags & NLM_F_ACK)) return;
          }
        }
        at += (h.length + 3) & ~3;
      }
    }
  }

  /** A request that expects only an ack (add, replace, delete). */
  ack(writer: MessageWriter, op: string, request: string): void {
    this.exchange(writer, NLM_F_ACK, op, request);
  }

  /** A request answered by one message (RTM_GETROUTE for one destination, RTM_GETLINK by name). */
  get(writer: MessageWriter, op: string, request: string, visit: Visit): void {
    this.exchange(writer, 0, op, request, visit);
  }

  /**
   * A dump. The kernel sets NLM_F_DUMP_INTR when the table changed while it was being dumped; then the
   * partial result may be inconsistent, so it is thrown away and the dump retried (up to `attempts` times).
   */
  dump(writerFor: () => MessageWriter, op: string, request: string, visit: Visit, reset: () => void, attempts = 10): void {
    for (let attempt = 1; ; attempt++) {
      try {
        this.exchange(writerFor(), NLM_F_DUMP, op, request, visit);
        return;
      } catch (err: unknown) {
        if (!(err instanceof DumpInterrupted)) throw err;
        this.interruptedDumps++;
        if (attempt >= attempts) throw new NetlinkError(4 /* EINTR */, op, `${request} (dump interrupted ${attempt} times)`);
        reset();
      }
    }
  }

  /** Calls `onReadable` from the event loop whenever messages wait (multicast events). */
  watch(onReadable: () => void): void {
    if (this.watchHandle) return;
    const handle = this.addon.watch(this.fd, onReadable);
    if (typeof handle === 'number') throw new NetlinkError(-handle, 'watch', '');
    this.watchHandle = handle;
  }

  unwatch(): void {
    if (this.watchHandle) this.addon.unwatch(this.watchHandle);
    this.watchHandle = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    this.addon.close(this.fd);
  }
}
