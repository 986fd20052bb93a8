/**
 * The rotating pool of upstream UDP sockets: at least 64 per address family, each bound to a kernel-chosen
 * random port and marked with the WAN mark, which is read back before the socket may send (gluon #3613).
 * With a random 16-bit ID per query this gives dnsmasq's spoofing resistance (RFC 5452 §9.2). One socket is
 * replaced now and then, when it has nothing in flight, so the set of ports keeps moving.
 */

import { randomFillSync } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { MarkError } from './errors.js';
import { dgramFd, markSocket, type SockmarkAddon } from './mark.js';

/** A query sent on a pool socket and waiting for its answer (keyed by its random ID). */
export interface PendingAttempt {
  onAnswer(msg: Buffer, rinfo: RemoteInfo, socket: PoolSocket): void;
}

// IDs and socket choices come from the CSPRNG, drawn from a refilled pool: one randomInt() call per query
// costs more than the rest of the ID handling.
const randomPool = Buffer.allocUnsafe(4096);
let randomAt = randomPool.length;

/** A uniformly random integer in [0, 65536) from the CSPRNG. */
export function random16(): number {
  if (randomAt + 2 > randomPool.length) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  const v = randomPool.readUInt16BE(randomAt);
  randomAt += 2;
  return v;
}

/** A random integer in [0, n) for n <= 65536 (rejection sampling keeps it uniform). */
export function randomBelow(n: number): number {
  const limit = 65536 - (65536 % n);
  for (;;) {
    const v = random16();
    if (v < limit) return v % n;
  }
}

export class PoolSocket {
  /** Set only after getsockopt(SO_MARK) read back the mark; an unmarked socket never sends. */
  marked = false;
  markError: MarkError | undefined;
  readonly pending = new Map<number, PendingAttempt>();
  sent = 0;
  constructor(readonly socket: Socket) {}

  /** A random ID not in flight on this socket. */
  freeId(): number {
    for (;;) {
      const id = random16();
      if (!this.pending.has(id)) return id;
    }
  }
}

export interface PoolOptions {
  family: 4 | 6;
  size: number;
  mark: number;
  addon: SockmarkAddon | MarkError;
  /** Replace one idle socket every this many ms (0: never). */
  rotateMs: number;
  /** Called once for each socket that could not be marked. */
  onMarkError(err: MarkError): void;
  /** An answer whose ID no pending query holds: counted, dropped. */
  onStray(): void;
}

export class SocketPool {
  readonly sockets: PoolSocket[] = [];
  private rotateTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: PoolOptions) {}

  /** Opens every socket; resolves when each is bound and its mark checked (marked or not). */
  async start(): Promise<void> {
    const opened = await Promise.all(Array.from({ length: this.options.size }, () => this.open()));
    for (const s of opened) if (s) this.sockets.push(s);
    if (this.options.rotateMs > 0) {
      this.rotateTimer = setInterval(() => this.rotate(), this.options.rotateMs);
      this.rotateTimer.unref();
    }
  }

  private open(): Promise<PoolSocket | undefined> {
    return new Promise((resolve) => {
      const socket = createSocket({ type: this.options.family === 6 ? 'udp6' : 'udp4', ipv6Only: this.options.family === 6 });
      const entry = new PoolSocket(socket);
      socket.on('error', () => {
        // A send error (no route: the WAN table is unreachable) surfaces here; the attempt times out and fails over.
      });
      socket.on('message', (msg, rinfo) => {
        if (msg.length < 2) return this.options.onStray();
        const pending = entry.pending.get(msg.readUInt16BE(0));
        if (pending === undefined) return this.options.onStray();
        pending.onAnswer(msg, rinfo, entry);
      });
      socket.once('listening', () => {
        const err = markSocket(this.options.addon, dgramFd(socket), this.options.mark);
        entry.marked = err === undefined;
        entry.markError = err;
        if (err) this.options.onMarkError(err);
        resolve(entry);
      });
      try {
        socket.bind({ port: 0, address: this.options.family === 6 ? '::' : '0.0.0.0', exclusive: true });
      } catch {
        resolve(undefined);
      }
    });
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
    void this.open().then((fresh) => {
      if (this.closed || fresh === undefined) {
        fresh?.socket.close();
        return;
      }
      // Keep a marked socket rather than swap it for one that could not be marked.
      if (!fresh.marked && old.marked) {
        fresh.socket.close();
        return;
      }
      const at = this.sockets.indexOf(old);
      if (at < 0 || old.pending.size > 0) {
        fresh.socket.close();
        return;
      }
      this.sockets[at] = fresh;
      old.socket.close();
    });
  }

  /** Sockets replaced by renew() that still wait for answers to what they sent. */
  private readonly draining: PoolSocket[] = [];
  /** How many times renew() replaced the whole pool. */
  renewals = 0;

  /** Every query waiting for an answer, on current and draining sockets (route-watch.ts fails them over). */
  pendingAttempts(): PendingAttempt[] {
    const out: PendingAttempt[] = [];
    for (const s of this.sockets) for (const a of s.pending.values()) out.push(a);
    for (const s of this.draining) for (const a of s.pending.values()) out.push(a);
    return out;
  }

  /**
   * An address change (route-watch.ts): a whole new set of marked sockets takes over at once; the old ones keep
   * receiving the answers to what they sent and are closed when nothing is pending, or after `drainMs`.
   */
  async renew(drainMs: number): Promise<void> {
    const opened = await Promise.all(Array.from({ length: this.options.size }, () => this.open()));
    const fresh = opened.filter((s): s is PoolSocket => s !== undefined);
    // Keep marked sockets rather than swap them for ones that could not be marked.
    if (this.closed || (this.markedCount() > 0 && !fresh.some((s) => s.marked))) {
      for (const s of fresh) s.socket.close();
      return;
    }
    const old = this.sockets.splice(0, this.sockets.length, ...fresh);
    this.renewals++;
    this.draining.push(...old);
    const until = Date.now() + drainMs;
    const sweep = (): void => {
      for (let i = this.draining.length - 1; i >= 0; i--) {
        const s = this.draining[i] as PoolSocket;
        if (s.pending.size > 0 && Date.now() < until && !this.closed) continue;
        this.draining.splice(i, 1);
        s.pending.clear();
        s.socket.close();
      }
      if (this.draining.length > 0) setTimeout(sweep, 100).unref();
    };
    sweep();
  }

  close(): void {
    this.closed = true;
    for (const s of this.draining.splice(0)) {
      s.pending.clear();
      s.socket.close();
    }
    if (this.rotateTimer) clearInterval(this.rotateTimer);
    for (const s of this.sockets) {
      s.pending.clear();
      try {
        s.socket.close();
      } catch {
        // already closed
      }
    }
    this.sockets.length = 0;
  }
}
