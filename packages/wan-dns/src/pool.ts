/**
 * The rotating pool of upstream UDP sockets: at least 64 per address family, each bound to a kernel-chosen
 * random port and marked with the WAN mark, which is read back before the socket may send (gluon #3613).
 * With a random 16-bit ID per query this gives dnsmasq's spoofing resistance (RFC 5452 §9.2). One socket is
 * replaced now and then, when it has nothing in flight, so the set of ports keeps moving.
 * The sockets are plain fds made by the addon and read and written in batches by BatchIo (batch-io.ts).
 */

import { files, type IpFamily, type TimerHandle, timers } from '@meshwan/os';
import { type BatchAddon, type BatchIo, type DatagramHandler, type Peer, peerOf } from './batch-io.js';
import { read16 } from './bytes.js';
import { MarkError } from './errors.js';
import { markSocket, type SockmarkAddon } from './mark.js';
import type { Server } from './upstreams.js';

/** A query sent on a pool socket and waiting for its answer (keyed by its random ID). */
export interface PendingAttempt {
  /** `fromServer`: the datagram came from the address and port the query was sent to. */
  onAnswer(msg: Uint8Array, fromServer: boolean, socket: PoolSocket): void;
  readonly server: Server;
}

const peers = new WeakMap<Server, Peer | null>();

/** A server's address as the kernel takes it (parsed once per server object). */
function serverPeer(addon: BatchAddon, server: Server): Peer | undefined {
  let peer = peers.get(server);
  if (peer === undefined) {
    const e = server.endpoint;
    peer = peerOf(addon, e.family, e.address, e.port, e.scope) ?? null;
    peers.set(server, peer);
  }
  return peer ?? undefined;
}

// IDs and socket choices come from the CSPRNG, drawn from a refilled pool: one randomInt() call per query
// costs more than the rest of the ID handling.
const randomPool = new Uint8Array(4096);
let randomAt = randomPool.length;

let urandom = -1;

/** Fills `buf` from the kernel's CSPRNG (/dev/urandom, kept open: getrandom's source without a syscall binding). */
function fillRandom(buf: Uint8Array): void {
  if (urandom < 0) urandom = files.open('/dev/urandom', 'read', 0);
  for (let at = 0; at < buf.length; ) {
    const n = files.read(urandom, buf.subarray(at));
    if (n <= 0) throw new Error('/dev/urandom: short read');
    at += n;
  }
}

/** A uniformly random integer in [0, 65536) from the CSPRNG. */
export function random16(): number {
  if (randomAt + 2 > randomPool.length) {
    fillRandom(randomPool);
    randomAt = 0;
  }
  const v = read16(randomPool, randomAt);
  randomAt += 2;
  return v;
}

/** A random integer in [0, n) for n <= 65536 (rejection sampling keeps it uniform). */
function randomBelow(n: number): number {
  const limit = 65536 - (65536 % n);
  for (;;) {
    const v = random16();
    if (v < limit) return v % n;
  }
}

export class PoolSocket implements DatagramHandler {
  /** Set only after getsockopt(SO_MARK) read back the mark; an unmarked socket never sends. */
  marked = false;
  markError: MarkError | undefined;
  readonly pending = new Map<number, PendingAttempt>();
  sent = 0;
  tag = -1;
  constructor(
    readonly fd: number,
    private readonly io: BatchIo,
    private readonly onStray: () => void,
  ) {}

  /** Sends `query` to `server`; false when the socket is unmarked or the address unusable (nothing is sent). */
  send(query: Uint8Array, server: Server): boolean {
    const peer = serverPeer(this.io.addon, server);
    if (!this.marked || peer === undefined) return false;
    this.sent++;
    this.io.sendTo(this.fd, peer, query);
    return true;
  }

  onDatagram(msg: Uint8Array, index: number): void {
    const pending = msg.length < 2 ? undefined : this.pending.get(read16(msg, 0));
    if (pending === undefined) {
      this.onStray();
      return;
    }
    const peer = serverPeer(this.io.addon, pending.server);
    pending.onAnswer(msg, peer !== undefined && this.io.sourceIs(index, peer), this);
  }

  onTruncated(): void {
    // Longer than we can take although we asked for at most 1232 bytes: not an answer to our query.
    this.onStray();
  }

  /** A random ID not in flight on this socket. */
  freeId(): number {
    for (;;) {
      const id = random16();
      if (!this.pending.has(id)) return id;
    }
  }
}

export interface PoolOptions {
  family: IpFamily;
  /** The batched I/O the sockets are read and written through; undefined without the addon (no sockets). */
  io: BatchIo | undefined;
  size: number;
  mark: number;
  addon: SockmarkAddon | MarkError;
  /** Replace one idle socket every this many ms (0: never). */
  rotateMs: number;
  /** Called once for each socket that could not be marked. */
  onMarkError(err: MarkError): void;
  /** An answer whose ID no pending query holds: counted, dropped. */
  onStray(): void;
  /** The drain clock (ms; default Date.now): tests move it to force a drain's end between two renewals. */
  now?: () => number;
}

export class SocketPool {
  readonly sockets: PoolSocket[] = [];
  private rotateTimer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly options: PoolOptions) {}

  /** Opens every socket; resolves when each is bound and its mark checked (marked or not). */
  async start(): Promise<void> {
    for (let i = 0; i < this.options.size; i++) {
      const s = this.openNow();
      if (s) this.sockets.push(s);
    }
    if (this.options.rotateMs > 0) {
      this.rotateTimer = timers.every(this.options.rotateMs, () => this.rotate());
    }
  }

  /** Opens one socket on a random port (kernel-chosen), marks it and reads the mark back before it may send. */
  private openNow(): PoolSocket | undefined {
    const io = this.options.io;
    if (io === undefined) {
      // No addon: no socket can be marked, so none is opened (the reason is logged once).
      const err = markSocket(this.options.addon, -1, this.options.mark);
      if (err) this.options.onMarkError(err);
      return undefined;
    }
    let fd: number;
    try {
      fd = io.addon.udpSocket(this.options.family, new Uint8Array(16), 0, 0);
    } catch (err: unknown) {
      this.options.onMarkError(new MarkError('socket', this.options.mark, (err as { code?: string }).code ?? String(err)));
      return undefined;
    }
    const entry = new PoolSocket(fd, io, this.options.onStray);
    const err = markSocket(this.options.addon, fd, this.options.mark);
    entry.marked = err === undefined;
    entry.markError = err;
    if (err) this.options.onMarkError(err);
    entry.tag = io.add(fd, entry);
    return entry;
  }

  private closeSocket(s: PoolSocket): void {
    s.pending.clear();
    const io = this.options.io;
    if (io === undefined) return;
    io.remove(s.fd, s.tag);
    try {
      io.addon.closeFd(s.fd);
    } catch {
      // already closed
    }
  }

  /** A random marked socket, or undefined when none could be marked (then nothing may be sent). */
  pick(): PoolSocket | undefined {
    const n = this.sockets.length;
    if (n === 0) return undefined;
    const start = randomBelow(n);
    for (let i = 0; i < n; i++) {
      const s = this.sockets[(start + i) % n] as PoolSocket;
      if (s.marked) return s;
    }
    return undefined;
  }

  markedCount(): number {
    let n = 0;
    for (const s of this.sockets) if (s.marked) n++;
    return n;
  }

  /** Replaces one random idle socket with a fresh one on a new random port. */
  private rotate(): void {
    if (this.closed || this.sockets.length === 0) return;
    const index = randomBelow(this.sockets.length);
    const old = this.sockets[index] as PoolSocket;
    if (old.pending.size > 0) return;
    const fresh = this.openNow();
    if (fresh === undefined) return;
    // Keep a marked socket rather than swap it for one that could not be marked.
    if (!fresh.marked && old.marked) {
      this.closeSocket(fresh);
      return;
    }
    this.sockets[index] = fresh;
    this.closeSocket(old);
  }

  /** Sockets replaced by renew() that still wait for answers to what they sent, each with its own drain end. */
  private readonly draining: { socket: PoolSocket; until: number }[] = [];
  private sweepTimer: TimerHandle | undefined;
  /** How many times renew() replaced the whole pool. */
  renewals = 0;

  /** Every query waiting for an answer, on current and draining sockets (route-watch.ts fails them over). */
  pendingAttempts(): PendingAttempt[] {
    const out: PendingAttempt[] = [];
    for (const s of this.sockets) for (const a of s.pending.values()) out.push(a);
    for (const d of this.draining) for (const a of d.socket.pending.values()) out.push(a);
    return out;
  }

  /**
   * An address change (route-watch.ts): a whole new set of marked sockets takes over at once; the old ones keep
   * receiving the answers to what they sent and are closed when nothing is pending, or `drainMs` after *their*
   * renewal. (Each socket keeps its own end: one sweep per renewal with its own end closed the sockets of a later
   * renewal, pending attempts and all, when the earlier renewal's time ran out; issue #17.)
   */
  async renew(drainMs: number): Promise<void> {
    const fresh: PoolSocket[] = [];
    for (let i = 0; i < this.options.size && !this.closed; i++) {
      const s = this.openNow();
      if (s) fresh.push(s);
    }
    // Keep marked sockets rather than swap them for ones that could not be marked.
    if (this.closed || (this.markedCount() > 0 && !fresh.some((s) => s.marked))) {
      for (const s of fresh) this.closeSocket(s);
      return;
    }
    const old = this.sockets.splice(0, this.sockets.length, ...fresh);
    this.renewals++;
    const until = this.now() + drainMs;
    for (const socket of old) this.draining.push({ socket, until });
    this.sweep();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Closes the draining sockets with nothing pending or whose drain has ended; runs every 100 ms while any are left. */
  sweep(): void {
    const now = this.now();
    for (let i = this.draining.length - 1; i >= 0; i--) {
      const d = this.draining[i] as { socket: PoolSocket; until: number };
      if (d.socket.pending.size > 0 && now < d.until && !this.closed) continue;
      this.draining.splice(i, 1);
      this.closeSocket(d.socket);
    }
    if (this.draining.length > 0 && this.sweepTimer === undefined) {
      this.sweepTimer = timers.after(100, () => {
        this.sweepTimer = undefined;
        this.sweep();
      });
    }
  }

  close(): void {
    this.closed = true;
    if (this.sweepTimer !== undefined) timers.clear(this.sweepTimer);
    for (const d of this.draining.splice(0)) this.closeSocket(d.socket);
    if (this.rotateTimer) timers.clear(this.rotateTimer);
    for (const s of this.sockets) this.closeSocket(s);
    this.sockets.length = 0;
  }
}
