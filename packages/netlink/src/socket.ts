/**
 * The one place that opens an rtnetlink socket. Requests are synchronous (send, then read the kernel's replies
 * with a poll timeout): rtnetlink answers in microseconds and a dump is flow-controlled by our reads.
 * The Monitor uses watch() for multicast events instead.
 */

import { netlink, OsError, type NetlinkSocket as Transport } from '@meshwan/os';
import { i32, setU16, u16 } from './codec/bytes.js';
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
} from './codec/constants.js';
import { decodeError, type MessageHeader, type MessageWriter, readHeader } from './codec/message.js';
import { AddonError, NetlinkError } from './errors.js';

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

/**
 * Called for each reply message; `offset` is the nlmsghdr, `end` its end. `header` and `buf` are the socket's own,
 * reused for the next message: keep what they hold, never them.
 */
export type Visit = (buf: Uint8Array, header: MessageHeader, offset: number, end: number) => void;

/**
 * One datagram per receive. The kernel builds a dump's datagrams at most 32 KiB (netlink_recvmsg caps
 * max_recvmsg_len there), and an event is one message of its own size, so 64 KiB always fits (a larger one comes
 * back as EMSGSIZE, never cut). It was 1 MiB: QuickJS zero-fills a typed array on creation, so each socket cost
 * 1 MiB of RSS on the router (wan-dns has three), for nothing a dump gains.
 */
const RECV_BYTES = 64 * 1024;
/** EAGAIN is 11 on every Linux ABI (MIPS too); receive() reports an empty socket as -EAGAIN. */
const EAGAIN = 11;

/** A seam failure as NetlinkError (its errno is this ABI's, and so is the name errnoName gives it). */
function socketError(err: unknown, op: string, request: string): unknown {
  if (!(err instanceof OsError)) return err;
  if (err.syscall === 'dlopen') return new AddonError((err.path ?? '').split(', '));
  return new NetlinkError(err.errno, op, request);
}

export class NetlinkSocket {
  readonly portid: number;
  readonly fd: number;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly buf = new Uint8Array(RECV_BYTES);
  private readonly header: MessageHeader = { length: 0, type: 0, flags: 0, seq: 0, pid: 0 };
  private closed = false;
  /** How many dumps were restarted because the kernel flagged NLM_F_DUMP_INTR (for tests and diagnostics). */
  interruptedDumps = 0;

  private constructor(
    private readonly transport: Transport,
    private readonly timeoutMs: number,
  ) {
    this.fd = transport.fd;
    this.portid = transport.portid;
  }

  static open(options: SocketOptions = {}): NetlinkSocket {
    let transport: Transport;
    try {
      // Extended acks give the kernel's reason; strict checking makes dump filters (table) apply in the kernel;
      // capped acks keep error replies small. A refusal is harmless on old kernels, so the seam ignores it.
      transport = netlink.open({
        protocol: NETLINK_ROUTE,
        groups: options.groups ?? 0,
        ...(options.netns === undefined ? {} : { netns: options.netns }),
        ...(options.rcvbufBytes === undefined ? {} : { rcvbufBytes: options.rcvbufBytes }),
        options: [
          [NETLINK_EXT_ACK, 1],
          [NETLINK_GET_STRICT_CHK, 1],
          [NETLINK_CAP_ACK, 1],
        ],
      });
    } catch (err: unknown) {
      const syscall = err instanceof OsError ? err.syscall : '';
      const [op, request] = syscall.startsWith('bind')
        ? ['bind', `groups 0x${(options.groups ?? 0).toString(16)}`]
        : syscall.includes('RCVBUF')
          ? ['setsockopt', `SO_RCVBUF ${options.rcvbufBytes ?? 0}`]
          : ['open', options.netns ?? ''];
      throw socketError(err, op, request);
    }
    return new NetlinkSocket(transport, options.timeoutMs ?? 10_000);
  }

  /** SO_RCVBUFFORCE (needs CAP_NET_ADMIN), else SO_RCVBUF (capped by net.core.rmem_max). */
  setReceiveBuffer(bytes: number): void {
    try {
      this.transport.setReceiveBuffer(bytes);
    } catch (err: unknown) {
      throw socketError(err, 'setsockopt', `SO_RCVBUF ${bytes}`);
    }
  }

  /** The kernel's SO_RCVBUF (twice what was asked). */
  receiveBufferBytes(): number {
    return this.transport.receiveBufferBytes();
  }

  nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  send(bytes: Uint8Array, op: string, request: string): void {
    try {
      this.transport.send(bytes);
    } catch (err: unknown) {
      throw socketError(err, op, request);
    }
  }

  /** Reads one datagram; returns its length, or -errno (-EAGAIN when empty and timeoutMs is 0). */
  receive(timeoutMs: number): { length: number; buf: Uint8Array } {
    try {
      return { length: this.transport.receive(this.buf, timeoutMs) ?? -EAGAIN, buf: this.buf };
    } catch (err: unknown) {
      if (!(err instanceof OsError)) throw err;
      return { length: -err.errno, buf: this.buf };
    }
  }

  private recvOrThrow(op: string, request: string): number {
    try {
      return this.transport.receive(this.buf, this.timeoutMs) ?? 0;
    } catch (err: unknown) {
      throw socketError(err, op, request);
    }
  }

  /**
   * Sends one request and visits every reply with its sequence number until NLMSG_DONE (dumps) or the ack.
   * Throws NetlinkError for NLMSG_ERROR with a negative code. Returns whether the kernel flagged NLM_F_DUMP_INTR.
   */
  private exchange(writer: MessageWriter, flags: number, op: string, request: string, visit?: Visit): boolean {
    const seq = this.nextSeq();
    const bytes = writer.finish(seq);
    setU16(bytes, 6, u16(bytes, 6) | flags | NLM_F_REQUEST);
    this.send(bytes, op, request);
    const isDump = (flags & NLM_F_DUMP) === NLM_F_DUMP;
    let interrupted = false;
    for (;;) {
      const n = this.recvOrThrow(op, request);
      let at = 0;
      while (at < n) {
        const h = readHeader(this.buf, at, n, this.header);
        const end = at + h.length;
        if (h.seq === seq && h.pid === this.portid) {
          if (h.flags & NLM_F_DUMP_INTR) interrupted = true;
          if (h.type === NLMSG_ERROR) {
            const e = decodeError(this.buf, h, at);
            if (e.error < 0) throw new NetlinkError(-e.error, op, request, e.message);
            if (!isDump) return false;
          } else if (h.type === NLMSG_DONE) {
            const code = h.length >= 20 ? i32(this.buf, at + 16) : 0;
            if (code < 0) throw new NetlinkError(-code, op, request);
            return interrupted;
          } else if (h.type !== NLMSG_NOOP && h.type !== NLMSG_OVERRUN) {
            visit?.(this.buf, h, at, end);
            if (!isDump && !(flags & NLM_F_ACK)) return false;
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
      if (!this.exchange(writerFor(), NLM_F_DUMP, op, request, visit)) return;
      this.interruptedDumps++;
      if (attempt >= attempts) throw new NetlinkError(4 /* EINTR */, op, `${request} (dump interrupted ${attempt} times)`);
      reset();
    }
  }

  /**
   * A dump visited once, for a caller that streams what it visits and so cannot take it back: returns true when
   * the kernel flagged NLM_F_DUMP_INTR (a table changed during the dump; what was visited may be inconsistent),
   * which the caller reports, as iproute2 does.
   */
  dumpOnce(writer: MessageWriter, op: string, request: string, visit: Visit): boolean {
    const interrupted = this.exchange(writer, NLM_F_DUMP, op, request, visit);
    if (interrupted) this.interruptedDumps++;
    return interrupted;
  }

  /** Calls `onReadable` from the event loop whenever messages wait (multicast events). */
  watch(onReadable: () => void): void {
    this.transport.onReadable(onReadable);
  }

  unwatch(): void {
    this.transport.onReadable(null);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close();
  }
}
