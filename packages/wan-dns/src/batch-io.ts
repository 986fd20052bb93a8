/**
 * Batched UDP I/O through the addon (packages/os native/netio.c): every UDP fd of the forwarder (listeners and the
 * upstream pool) sits in one epoll set that libuv watches with one handle. A wake-up drains all ready fds with
 * recvmmsg(2) into one buffer and calls `onBatch` once for up to 64 datagrams; replies and upstream queries are
 * copied into a send buffer and leave with sendmmsg(2) when the batch ends. Node's dgram costs one libuv
 * callback, one recvmsg, a RemoteInfo and an address string per datagram, and one sendmsg per reply: on a VM
 * that alone was slower than dnsmasq's whole work per query (BENCHMARKS.md).
 * Received datagrams are views of the shared buffer, valid only during the handler call: keep a copy.
 */
import type { IoHandle, IpFamily, Sockets } from '@meshwan/os';
import { MarkError } from './errors.js';

/** Datagrams per batch (the C side's BATCH). */
const BATCH = 64;
/** Bytes per received datagram: queries and answers are at most 1232 (we clamp EDNS) or 512 without it. */
const SLOT = 4096;
const REC = 12;
/**
 * The send batch's buffer: a batch is flushed when full, so this bounds memory, not answers. 64 datagrams of a
 * clamped 1232 bytes fit; QuickJS zero-fills it on creation (RSS on the router), so no larger.
 */
const SEND_BYTES = 80 * 1024;

/** The seam's UDP and batch calls (packages/os socket-api.ts) this module uses. */
export type BatchAddon = Sockets;

/** The sockets with batched I/O, or undefined when the binding could not be loaded (then no listener can start). */
export function batchAddon(addon: Sockets | MarkError): Sockets | undefined {
  return addon instanceof MarkError ? undefined : addon;
}

/**
 * A UDP peer as the kernel takes it: family, the 16 address bytes (IPv4 in the first 4) as four int32 words in
 * the records' byte order, port, IPv6 scope id. Plain numbers: a copy per waiting query allocates no buffer.
 */
export class Peer {
  constructor(
    readonly family: IpFamily,
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
    readonly port: number,
    readonly scope: number,
  ) {}

  /** The 16 address bytes. */
  bytes(): Uint8Array {
    return new Uint8Array(Int32Array.of(this.w0, this.w1, this.w2, this.w3).buffer);
  }
}

const scratchWords = new Int32Array(4);
const scratchBytes = new Uint8Array(scratchWords.buffer);

/** The Peer of an address text (`192.0.2.1`, `fe80::1` with scope `wan`), or undefined when it is not one. */
export function peerOf(addon: BatchAddon, family: IpFamily, address: string, port: number, scopeName?: string): Peer | undefined {
  if (!addon.addrBytes(family, address, scratchBytes)) return undefined;
  const scope = scopeName ? addon.ifIndex(scopeName) : 0;
  const w = scratchWords;
  return new Peer(family, w[0] as number, w[1] as number, w[2] as number, w[3] as number, port, scope);
}

export interface DatagramHandler {
  /** One datagram; `msg` is a view valid during this call only; `index` is for the BatchIo's source accessors. */
  onDatagram(msg: Uint8Array, index: number): void;
  /** A datagram longer than SLOT bytes (cut by the kernel): dropped. */
  onTruncated(): void;
}

/**
 * Buffer sizes of a BatchIo: the forwarder's defaults take 64 datagrams of up to 4 KB in (256 KB) and 80 KB out;
 * a user with a few small datagrams in flight (uplinks's DNS probes: no EDNS, so replies of at most 512 bytes)
 * takes less.
 */
export interface BatchSizes {
  /** Bytes per received datagram (longer ones are cut and dropped). */
  readonly slot: number;
  /** Bytes of datagrams queued to send before a flush. */
  readonly sendBytes: number;
}

export class BatchIo {
  private readonly recvBuf: Uint8Array;
  private readonly recvMeta = new Int32Array(BATCH * REC);
  private readonly recvBytes = new Uint8Array(this.recvMeta.buffer);
  private readonly sendBuf: Uint8Array;
  private readonly sendMeta = new Int32Array(BATCH * REC);
  private readonly handle: IoHandle;
  private readonly handlers: (DatagramHandler | undefined)[] = [];
  private readonly freeTags: number[] = [];
  private queued = 0;
  private sendAt = 0;
  private inBatch = false;
  private closed = false;
  /** Datagrams the kernel refused to send (no route, firewall, full buffer). */
  sendFailures = 0;
  /** Batches received and datagrams in them (status, bench). */
  batches = 0;
  datagrams = 0;

  /** `onError`: an exception from a handler (a bug); the batch goes on with the next datagram. */
  constructor(
    readonly addon: Sockets,
    private readonly onError: (err: unknown) => void,
    sizes: BatchSizes = { slot: SLOT, sendBytes: SEND_BYTES },
  ) {
    this.recvBuf = new Uint8Array(BATCH * sizes.slot);
    this.sendBuf = new Uint8Array(sizes.sendBytes);
    this.handle = addon.ioOpen(this.recvBuf, this.recvMeta, this.sendBuf, this.sendMeta, sizes.slot, (n) => this.onBatch(n));
  }

  /** Watches `fd`; its datagrams go to `handler`. Returns the tag to remove it with. */
  add(fd: number, handler: DatagramHandler): number {
    const tag = this.freeTags.pop() ?? this.handlers.length;
    this.handlers[tag] = handler;
    this.addon.ioAdd(this.handle, fd, tag);
    return tag;
  }

  /** Stops watching `fd` (call before closing it). */
  remove(fd: number, tag: number): void {
    if (this.closed) return;
    this.addon.ioRemove(this.handle, fd);
    this.handlers[tag] = undefined;
    this.freeTags.push(tag);
  }

  private onBatch(n: number): void {
    this.batches++;
    this.datagrams += n;
    this.inBatch = true;
    const meta = this.recvMeta;
    try {
      for (let i = 0; i < n; i++) {
        const r = i * REC;
        const handler = this.handlers[meta[r] as number];
        if (handler === undefined) continue;
        if (meta[r + 6] !== 0) {
          handler.onTruncated();
          continue;
        }
        const offset = meta[r + 1] as number;
        try {
          handler.onDatagram(this.recvBuf.subarray(offset, offset + (meta[r + 2] as number)), i);
        } catch (err: unknown) {
          this.onError(err);
        }
      }
    } finally {
      this.inBatch = false;
      this.flush();
    }
  }

  /** The source port of datagram `i` of the current batch. */
  sourcePort(i: number): number {
    return this.recvMeta[i * REC + 4] as number;
  }

  /** True when datagram `i` came from loopback (127/8, ::1, ::ffff:127/104), read from the address bytes. */
  fromLoopback(i: number): boolean {
    const b = this.recvBytes;
    const at = (i * REC + 8) * 4;
    if (this.recvMeta[i * REC + 3] === 4) return b[at] === 127;
    for (let k = 0; k < 10; k++) if (b[at + k] !== 0) return false;
    if (b[at + 10] === 0xff && b[at + 11] === 0xff) return b[at + 12] === 127;
    if (b[at + 10] !== 0 || b[at + 11] !== 0 || b[at + 12] !== 0 || b[at + 13] !== 0 || b[at + 14] !== 0) return false;
    return b[at + 15] === 1;
  }

  /** The source address of datagram `i` as dgram would report it (`fe80::1%eth0`): the slow path, for allow-lists. */
  sourceText(i: number): string {
    const at = (i * REC + 8) * 4;
    return this.addon.addrText(
      this.recvMeta[i * REC + 3] as number,
      this.recvBytes.subarray(at, at + 16),
      this.recvMeta[i * REC + 5] as number,
    );
  }

  /** True when datagram `i` came from `peer` (family, address, port; scope when the peer has one). */
  sourceIs(i: number, peer: Peer): boolean {
    const r = i * REC;
    const meta = this.recvMeta;
    if (meta[r + 3] !== peer.family || meta[r + 4] !== peer.port) return false;
    if (peer.scope !== 0 && meta[r + 5] !== peer.scope) return false;
    // The C side zeroes the 12 bytes after an IPv4 address, as addrBytes does.
    return meta[r + 8] === peer.w0 && meta[r + 9] === peer.w1 && meta[r + 10] === peer.w2 && meta[r + 11] === peer.w3;
  }

  /** The source of datagram `i` as a Peer that outlives the batch. */
  source(i: number): Peer {
    const r = i * REC;
    const m = this.recvMeta;
    const family = m[r + 3] === 6 ? 6 : 4;
    return new Peer(
      family,
      m[r + 8] as number,
      m[r + 9] as number,
      m[r + 10] as number,
      m[r + 11] as number,
      m[r + 4] as number,
      m[r + 5] as number,
    );
  }

  /** Queues `data` on `fd` to the source of datagram `i` of the current batch. */
  replyTo(fd: number, i: number, data: Uint8Array): void {
    const r = this.reserve(fd, data);
    if (r < 0) return;
    const src = i * REC;
    const meta = this.sendMeta;
    const from = this.recvMeta;
    meta[r + 3] = from[src + 3] as number;
    meta[r + 4] = from[src + 4] as number;
    meta[r + 5] = from[src + 5] as number;
    meta[r + 8] = from[src + 8] as number;
    meta[r + 9] = from[src + 9] as number;
    meta[r + 10] = from[src + 10] as number;
    meta[r + 11] = from[src + 11] as number;
    this.commit();
  }

  /** Queues `data` on `fd` to `peer`; sent at the end of the batch, or now outside one. */
  sendTo(fd: number, peer: Peer, data: Uint8Array): void {
    const r = this.reserve(fd, data);
    if (r < 0) return;
    const meta = this.sendMeta;
    meta[r + 3] = peer.family;
    meta[r + 4] = peer.port;
    meta[r + 5] = peer.scope;
    meta[r + 8] = peer.w0;
    meta[r + 9] = peer.w1;
    meta[r + 10] = peer.w2;
    meta[r + 11] = peer.w3;
    this.commit();
  }

  /** Copies `data` into the send buffer and fills the record's fd, offset and length; returns the record's index. */
  private reserve(fd: number, data: Uint8Array): number {
    if (this.closed) return -1;
    if (this.queued === BATCH || this.sendAt + data.length > this.sendBuf.length) this.flush();
    if (data.length > this.sendBuf.length) {
      this.sendFailures++;
      return -1;
    }
    this.sendBuf.set(data, this.sendAt);
    const r = this.queued * REC;
    this.sendMeta[r] = fd;
    this.sendMeta[r + 1] = this.sendAt;
    this.sendMeta[r + 2] = data.length;
    this.sendAt += data.length;
    return r;
  }

  private commit(): void {
    this.queued++;
    if (!this.inBatch) this.flush();
  }

  /** Sends everything queued. */
  flush(): void {
    if (this.queued === 0 || this.closed) return;
    const n = this.queued;
    this.queued = 0;
    this.sendAt = 0;
    this.sendFailures += this.addon.ioSend(this.handle, n);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.addon.ioClose(this.handle);
  }
}
