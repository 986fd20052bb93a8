/**
 * The forwarder: takes a client's query (from udp.ts or tcp.ts), answers it from the cache or sends it on a
 * marked pool socket to the best upstream, accepts an answer only from the server asked with the random ID
 * used and the same question (RFC 5452 §4.1), fails over on timeout/SERVFAIL/REFUSED within the client's
 * patience, retries truncated answers over TCP, and answers SERVFAIL itself when nothing can be sent.
 * Hot path: one walk over the message, the ID rewritten in place, no full decode.
 */

import { read16, write16, write32 } from './bytes.js';
import type { Cache } from './cache.js';
import { Deadlines, type Expiring } from './deadlines.js';
import { DecodeError, type MarkError } from './errors.js';
import type { Logger } from './log.js';
import type { SockmarkAddon } from './mark.js';
import { type PendingAttempt, type PoolSocket, random16, type SocketPool } from './pool.js';
import type { Counters } from './stats.js';
import { Abort, tcpExchange } from './tcp-upstream.js';
import type { Server, Upstreams } from './upstreams.js';
import {
  cacheKey,
  clampUdpSize,
  clientUdpLimit,
  echoQuestion,
  errorAnswer,
  FLAG_QR,
  FLAG_TC,
  HEADER_BYTES,
  type MessageInfo,
  qnameCopies,
  RCODE_FORMERR,
  RCODE_NOTIMP,
  RCODE_REFUSED,
  RCODE_SERVFAIL,
  sameQuestion,
  walkMessage,
} from './wire.js';

export type Reply = (answer: Uint8Array) => void;

export interface ForwarderOptions {
  upstreams: Upstreams;
  pools: { 4: SocketPool | undefined; 6: SocketPool | undefined };
  cache: Cache | undefined;
  counters: Counters;
  log: Logger;
  addon: SockmarkAddon | MarkError;
  mark: number;
  /** Queries waiting for upstreams at once; more are dropped (dnsmasq --dns-forward-max, default 150). */
  maxInflight: number;
  /** After this long a query is answered SERVFAIL: before the usual 5 s resolver timeout (resolv.conf(5)). */
  deadlineMs: number;
  /** A fixed per-attempt timeout instead of each server's 3 x SRTT (tests that hold a query pending on purpose). */
  attemptTimeoutMs?: number;
}

/** A held query's place in the hold heap (the hold's end). */
class HoldEntry implements Expiring {
  expiresAt = 0;
  heapIndex = -1;
  constructor(readonly query: Query) {}
}

class Query implements Expiring {
  done = false;
  /** When the query started waiting for a route during a renumbering (-1: not held). */
  heldAt = -1;
  /** Its entry in the hold heap while held: an entry of its own, as the query itself may sit in the deadline heap. */
  hold: HoldEntry | undefined;
  /** Attempts still within their own timeout (and TCP retries): while any is, the query is not given up. */
  outstanding = 0;
  /** In the deadline heap while only timed-out attempts are left to answer: given up at `deadlineMs`. */
  expiresAt = 0;
  heapIndex = -1;
  next = 0;
  sends = 0;
  tcpTried = false;
  retried = false;
  refusedUnmarked = false;
  /** RCODE of the last SERVFAIL/REFUSED answer: what the client gets when every server refused. */
  lastRcode = RCODE_SERVFAIL;
  readonly asked = new Set<Server>();
  readonly attempts: Attempt[] = [];
  constructor(
    readonly buf: Uint8Array,
    readonly info: MessageInfo,
    readonly clientId: number,
    readonly limit: number,
    readonly reply: Reply,
    readonly servers: readonly Server[],
    readonly deadlineMs: number,
    readonly key: string | undefined,
  ) {}
}

class Attempt implements PendingAttempt, Expiring {
  expiresAt = 0;
  heapIndex = -1;
  /** Its ID is held on its socket: an answer to it is still taken. */
  active = true;
  /**
   * Past its own timeout: the next server was asked, but this one's answer is still taken (a slow answer beats
   * a SERVFAIL) until the query ends. No longer counted in `outstanding`.
   */
  timedOut = false;
  constructor(
    readonly fwd: Forwarder,
    readonly query: Query,
    readonly server: Server,
    readonly socket: PoolSocket,
    readonly id: number,
    readonly sentMs: number,
    /** The source address the server's route used when this was sent (route-watch.ts; undefined: unknown). */
    readonly source: string | undefined,
  ) {}
  onAnswer(msg: Uint8Array, fromServer: boolean): void {
    this.fwd.onAnswer(this, msg, fromServer);
  }
}

function nowMs(): number {
  return performance.now();
}

/** An open TCP upstream connection (a truncated answer's retry), closed by route-watch.ts when its route goes. */
interface TcpOpen {
  readonly server: Server;
  readonly abort: Abort;
}

export class Forwarder {
  inflight = 0;
  /** Per-attempt timeouts and the give-up of queries left waiting on timed-out attempts (deadlines.ts): no Node timer each. */
  private readonly deadlines = new Deadlines<Attempt | Query>((item) => {
    try {
      if (item instanceof Attempt) this.onTimeout(item);
      else this.fail(item);
    } catch (err: unknown) {
      this.internalError(err);
    }
  }, nowMs);
  /** Queries held during a renumbering, by the end of their hold (SERVFAIL then, nothing sent). */
  private readonly holds = new Deadlines<HoldEntry>((entry) => {
    try {
      this.holdExpired(entry.query);
    } catch (err: unknown) {
      this.internalError(err);
    }
  }, nowMs);
  private readonly held = new Set<Query>();
  private readonly tcpOpen = new Set<TcpOpen>();

  /** Stops the deadline timers (the daemon closed): no timer of a pending query keeps the event loop alive. */
  close(): void {
    this.deadlines.close();
    this.holds.close();
  }
  constructor(readonly options: ForwarderOptions) {}

  /** Queries waiting for a route to come back (status). */
  get heldCount(): number {
    return this.held.size;
  }

  /**
   * `server` lost its route (route-watch.ts): its pending UDP attempts go to the next server now (or SERVFAIL
   * when none is left) instead of waiting for their timeout, and its TCP connections are closed and their
   * queries retried elsewhere. Returns how many attempts and connections moved.
   */
  routeLost(server: Server): number {
    const now = nowMs();
    let moved = 0;
    for (const a of this.attemptsTo(server)) {
      this.retire(a);
      // A timed-out attempt's query has moved on already; it only loses one late answer it might have taken.
      if (a.timedOut) {
        if (a.query.outstanding === 0) this.giveUpLater(a.query, now);
        continue;
      }
      moved++;
      this.sendNext(a.query, now);
    }
    for (const open of [...this.tcpOpen]) {
      if (open.server !== server) continue;
      moved++;
      open.abort.abort('route');
    }
    this.options.counters.routeFailovers += moved;
    return moved;
  }

  /**
   * The source address of `server`'s route changed and the old one is gone from this node (a DHCP renew to a
   * new address): answers to what was sent from it cannot arrive, so pending attempts are sent again (new
   * socket, new ID, same server) and TCP connections are closed and retried.
   */
  sourceGone(server: Server, source: string): number {
    const now = nowMs();
    let resent = 0;
    for (const a of this.attemptsTo(server)) {
      // An attempt that left from another source (a retry sent after the route moved) still gets its answer.
      if (a.source !== undefined && a.source !== source) continue;
      this.retire(a);
      // A timed-out attempt is sent again only when its query waits on nothing else.
      if (a.timedOut && a.query.outstanding > 0) continue;
      resent++;
      const q = a.query;
      // Past its deadline nothing is sent: a resend with no time left would only count as a server timeout.
      if (now >= q.deadlineMs) {
        if (q.outstanding === 0) this.fail(q);
      } else if (!this.sendTo(q, server, now)) this.sendNext(q, now);
    }
    for (const open of [...this.tcpOpen]) {
      if (open.server !== server) continue;
      resent++;
      open.abort.abort('source');
    }
    this.options.counters.routeResends += resent;
    return resent;
  }

  private attemptsTo(server: Server): Attempt[] {
    const out: Attempt[] = [];
    for (const pool of [this.options.pools[4], this.options.pools[6]]) {
      for (const a of pool?.pendingAttempts() ?? []) if (a instanceof Attempt && a.active && a.server === server) out.push(a);
    }
    return out;
  }

  /** A TCP retry closed by routeLost (ask the next server) or sourceGone (ask the same one again). */
  private tcpAborted(q: Query, server: Server, reason: unknown): void {
    if (q.done) return;
    const now = nowMs();
    if (reason === 'source' && server.routeDown === undefined && now < q.deadlineMs) return void this.retryTcp(q, server, now);
    // The next server's truncated answer may be fetched over TCP in turn.
    q.tcpTried = false;
    this.sendNext(q, now);
  }

  /**
   * Handles one client message; `udp` decides the answer size limit. `reply` is called at most once.
   * `keep`, when given, says that `msg` and `reply` are valid during this call only (the UDP listener's batch):
   * a query that has to wait copies `msg` and calls `keep()` for a reply that lasts. A cache hit needs neither.
   */
  handle(msg: Uint8Array, udp: boolean, reply: Reply, keep?: () => Reply): boolean {
    const c = this.options.counters;
    c.queries++;
    let info: MessageInfo;
    try {
      info = walkMessage(msg, msg.length, true);
    } catch (err: unknown) {
      if (!(err instanceof DecodeError)) throw err;
      c.malformed++;
      // No header, or a response (QR) sent to us: answering could feed a loop or a reflection; drop it.
      if (msg.length < HEADER_BYTES || read16(msg, 2) & FLAG_QR) return false;
      c.formerr++;
      this.send(reply, errorAnswer(msg, HEADER_BYTES, RCODE_FORMERR));
      return true;
    }
    if (info.flags & FLAG_QR) {
      c.malformed++;
      return false;
    }
    if (info.opcode !== 0) {
      c.notimp++;
      this.send(reply, errorAnswer(msg, info.questionEnd, RCODE_NOTIMP));
      return true;
    }
    if (info.qdcount !== 1) {
      c.malformed++;
      c.formerr++;
      this.send(reply, errorAnswer(msg, info.questionEnd, RCODE_FORMERR));
      return true;
    }
    const limit = udp ? clientUdpLimit(info) : 0xffff;
    const now = nowMs();
    const cache = this.options.cache;
    let key: string | undefined;
    if (cache !== undefined) {
      key = cacheKey(msg, info);
      const hit = cache.get(key, now, msg);
      if (hit !== undefined) {
        c.cacheHits++;
        write16(hit, info.id, 0);
        this.send(reply, hit.length > limit ? truncate(hit, info.questionEnd) : hit);
        return true;
      }
      c.cacheMisses++;
    }
    if (this.inflight >= this.options.maxInflight) {
      c.droppedInflight++;
      return false;
    }
    const servers = this.options.upstreams.ordered(now);
    const first = servers[0];
    if (first === undefined) {
      this.options.log.once('no-upstream', 'warning', 'no upstream DNS server configured: answering SERVFAIL');
      this.servfail(reply, msg, info);
      return true;
    }
    this.options.log.clear('no-upstream');
    // ordered() puts servers without a route last: when the first has none, none has (route-watch.ts).
    const holdMs = first.routeDown === undefined ? 0 : this.holdMs(servers, now, now + this.options.deadlineMs);
    if (first.routeDown !== undefined && holdMs === 0) {
      c.routeServfail++;
      this.servfail(reply, msg, info);
      return true;
    }
    const owned = keep === undefined ? msg : msg.slice();
    clampUdpSize(owned, info);
    const q = new Query(owned, info, info.id, limit, keep === undefined ? reply : keep(), servers, now + this.options.deadlineMs, key);
    this.inflight++;
    if (holdMs > 0) {
      this.hold(q, now, holdMs);
      return true;
    }
    q.next = 1;
    if (!this.sendTo(q, first, now)) {
      this.sendNext(q, now);
      return true;
    }
    // Indexed, not for-of: on QuickJS an iterator is an allocation per query, and almost every query has no probe.
    const probes = this.options.upstreams.probes(now, first);
    for (let i = 0; i < probes.length; i++) this.sendTo(q, probes[i] as Server, now);
    return true;
  }

  /**
   * A bug on the query path (an exception that is not a DecodeError): logged once, counted, and the process
   * keeps serving other queries rather than crash (the query concerned times out at its client).
   */
  internalError(err: unknown): void {
    this.options.counters.internalErrors++;
    this.options.log.once(
      'internal-error',
      'err',
      `internal error, query dropped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`.replace(/\n\s*/g, ' | '),
    );
  }

  private send(reply: Reply, answer: Uint8Array): void {
    this.options.counters.answers++;
    reply(answer);
  }

  private servfail(reply: Reply, msg: Uint8Array, info: MessageInfo, clientId = info.id, rcode = RCODE_SERVFAIL): void {
    if (rcode === RCODE_SERVFAIL) this.options.counters.servfail++;
    const out = errorAnswer(msg, info.questionEnd, rcode);
    write16(out, clientId, 0);
    this.send(reply, out);
  }

  /** Sends `q` to `server` on a marked socket; false when no marked socket exists (then nothing is sent). */
  private sendTo(q: Query, server: Server, now: number): boolean {
    const pool = this.options.pools[server.endpoint.family];
    const socket = pool?.pick();
    if (socket === undefined) {
      // Counted once per query, however many servers it could have gone to.
      if (!q.refusedUnmarked) this.options.counters.refusedUnmarked++;
      q.refusedUnmarked = true;
      this.options.log.once(
        `unmarked-${server.endpoint.family}`,
        'err',
        `no IPv${server.endpoint.family} upstream socket carries the WAN mark 0x${this.options.mark.toString(16)}: sending nothing, answering SERVFAIL`,
      );
      return false;
    }
    const id = socket.freeId();
    // The ID is rewritten in place: a send copies the query into the batch's send buffer at once.
    q.sends++;
    write16(q.buf, id, 0);
    const attempt = new Attempt(this, q, server, socket, id, now, server.routeSource);
    socket.pending.set(id, attempt);
    q.attempts.push(attempt);
    q.asked.add(server);
    q.outstanding++;
    server.stats.queries++;
    const wait = Math.max(1, Math.min(this.attemptTimeout(server), q.deadlineMs - now));
    this.deadlines.add(attempt, now + wait);
    socket.send(q.buf, server);
    return true;
  }

  /** Asks the next server not yet asked; answers SERVFAIL when none is left and nothing is outstanding. */
  private sendNext(q: Query, now: number): void {
    if (q.done) return;
    if (now < q.deadlineMs) {
      while (q.next < q.servers.length) {
        const server = q.servers[q.next++] as Server;
        if (q.asked.has(server) || server.routeDown !== undefined) continue;
        if (this.sendTo(q, server, now)) return;
      }
    }
    // Every server asked and none answered: ask the best one once more (new socket, new ID) if time is left,
    // so one lost datagram does not become a SERVFAIL when there is a single upstream.
    if (q.outstanding === 0 && !q.retried && now < q.deadlineMs) {
      q.retried = true;
      const best = this.options.upstreams.ordered(now)[0];
      if (best !== undefined && best.routeDown === undefined && this.sendTo(q, best, now)) return;
    }
    if (q.outstanding !== 0) return;
    // No server has a route because the WAN is being renumbered: wait for the route (once) rather than fail.
    const holdMs = q.heldAt < 0 && now < q.deadlineMs ? this.holdMs(q.servers, now, q.deadlineMs) : 0;
    if (holdMs > 0) this.hold(q, now, holdMs);
    else this.giveUpLater(q, now);
  }

  /**
   * Nothing is left to ask: fails `q` now, unless a timed-out attempt may still be answered before the
   * deadline (a server slower than its usual 3 x SRTT); then the query waits for that answer until
   * `deadlineMs`, as a resolver waits for a slow server rather than give up at its retransmit timer.
   */
  private giveUpLater(q: Query, now: number): void {
    if (q.done) return;
    if (now < q.deadlineMs && q.attempts.some((a) => a.active && a.timedOut)) {
      if (q.heapIndex < 0) this.deadlines.add(q, q.deadlineMs);
      return;
    }
    this.fail(q);
  }

  private attemptTimeout(server: Server): number {
    return this.options.attemptTimeoutMs ?? server.attemptTimeoutMs();
  }

  /**
   * How long a query with no routable server may wait for a route: while a server's route is gone for a
   * renumbering (route-hooks.ts sets holdUntilMs), until the query's own deadline (2.5 s, SERVFAIL before a
   * resolver's usual 5 s; or --attempt-timeout, which tests use to end a hold early), else 0 (fail now, as
   * without a route). Not the server's 3 x SRTT (at most 1 s): that is about a lost datagram, while the gap
   * between udhcpc's deconfig and its bound, through netifd, is a few process starts on a slow router; the e2e
   * renumbering measured holds past 1 s on a busy machine.
   */
  private holdMs(servers: readonly Server[], now: number, deadlineMs: number): number {
    for (const s of servers) {
      if (s.routeDown !== undefined && s.holdUntilMs > now) return this.options.attemptTimeoutMs ?? deadlineMs - now;
    }
    return 0;
  }

  /** Parks `q` (nothing is sent, over the WAN or elsewhere) until a route returns or the hold ends. */
  private hold(q: Query, now: number, holdMs: number): void {
    q.heldAt = now;
    this.options.counters.held++;
    this.held.add(q);
    q.hold = new HoldEntry(q);
    this.holds.add(q.hold, Math.min(q.deadlineMs, now + holdMs));
  }

  private unhold(q: Query, now: number): void {
    if (!this.held.delete(q)) return;
    if (q.hold !== undefined) this.holds.remove(q.hold);
    q.hold = undefined;
    const c = this.options.counters;
    c.heldMaxMs = Math.max(c.heldMaxMs, Math.round(now - q.heldAt));
  }

  /** No route came back in time: SERVFAIL, fail closed (nothing was sent while held). */
  private holdExpired(q: Query): void {
    this.unhold(q, nowMs());
    if (q.done) return;
    this.options.counters.heldServfail++;
    this.fail(q);
  }

  /**
   * A route came back, or a renumbering ended (route-hooks.ts): held queries are sent now to the best routable
   * server; those left with no server worth waiting for (carrier lost: the WAN really went away) get SERVFAIL now.
   */
  releaseHeld(): void {
    const now = nowMs();
    for (const q of [...this.held]) {
      if (q.done) {
        this.unhold(q, now);
        continue;
      }
      const best = this.options.upstreams.ordered(now)[0];
      if (best !== undefined && best.routeDown === undefined) {
        this.unhold(q, now);
        if (!this.sendTo(q, best, now)) this.fail(q);
      } else if (this.holdMs(q.servers, now, q.deadlineMs) === 0) {
        this.unhold(q, now);
        this.options.counters.heldServfail++;
        this.fail(q);
      }
    }
  }

  private retire(a: Attempt): void {
    if (!a.active) return;
    a.active = false;
    this.deadlines.remove(a);
    if (a.socket.pending.get(a.id) === a) a.socket.pending.delete(a.id);
    if (!a.timedOut) a.query.outstanding--;
  }

  private finish(q: Query): void {
    q.done = true;
    this.inflight--;
    this.deadlines.remove(q);
    if (q.heldAt >= 0) this.unhold(q, nowMs());
    for (const a of q.attempts) this.retire(a);
    // Each attempt points back at its query: with the list emptied that is no cycle, so a finished query and its
    // attempts are freed by reference counting at once instead of waiting for QuickJS's cycle collector, whose
    // runs over the whole heap were a tenth of a miss's CPU on the router.
    q.attempts.length = 0;
  }

  private fail(q: Query): void {
    if (q.done) return;
    this.finish(q);
    this.servfail(q.reply, q.buf, q.info, q.clientId, q.lastRcode);
  }

  /** An attempt's own timeout: the next server is asked, while this one's ID stays open for a late answer. */
  private onTimeout(a: Attempt): void {
    if (!a.active || a.timedOut) return;
    a.timedOut = true;
    a.query.outstanding--;
    const now = nowMs();
    a.server.stats.timeouts++;
    a.server.failed(now);
    this.options.upstreams.invalidate();
    this.sendNext(a.query, now);
  }

  /** An upstream packet carrying the ID of `a`; checked before it is believed. */
  onAnswer(a: Attempt, msg: Uint8Array, fromServer: boolean): void {
    try {
      this.answer(a, msg, fromServer);
    } catch (err: unknown) {
      this.internalError(err);
    }
  }

  private answer(a: Attempt, msg: Uint8Array, fromServer: boolean): void {
    const c = this.options.counters;
    if (!fromServer) {
      // Our random ID from another address or port: a forgery (RFC 5452 §9.1) or a misrouted answer. Dropped;
      // the attempt keeps waiting for the genuine answer until its own timeout.
      c.strayAnswers++;
      c.forgedAnswers++;
      return;
    }
    const info = this.checkAnswer(a.query, msg);
    if (info === undefined) return;
    this.retire(a);
    this.accept(a.query, a.server, msg, info, a.sentMs, false);
  }

  /** Validates an upstream answer to `q`: QR, well-formed, same question. Undefined (and counted) when not. */
  private checkAnswer(q: Query, msg: Uint8Array): MessageInfo | undefined {
    let info: MessageInfo;
    try {
      info = walkMessage(msg, msg.length, false);
    } catch {
      this.options.counters.badAnswers++;
      return undefined;
    }
    const errorWithoutQuestion =
      info.qdcount === 0 &&
      (info.rcode === RCODE_SERVFAIL || info.rcode === RCODE_REFUSED || info.rcode === RCODE_FORMERR || info.rcode === RCODE_NOTIMP);
    if (!(info.flags & FLAG_QR) || !(errorWithoutQuestion || sameQuestion(msg, info.questionEnd, q.buf, q.info.questionEnd))) {
      // Our ID and the server's address, but another question or no answer at all: forged (or a broken server).
      this.options.counters.strayAnswers++;
      this.options.counters.forgedAnswers++;
      return undefined;
    }
    return info;
  }

  private accept(q: Query, server: Server, msg: Uint8Array, info: MessageInfo, sentMs: number, viaTcp: boolean): void {
    const now = nowMs();
    if (info.rcode === RCODE_SERVFAIL || info.rcode === RCODE_REFUSED) {
      if (info.rcode === RCODE_SERVFAIL) server.stats.servfail++;
      else server.stats.refused++;
      q.lastRcode = info.rcode;
      server.failed(now);
      this.options.upstreams.invalidate();
      if (!q.done && q.outstanding === 0) this.sendNext(q, now);
      return;
    }
    server.answered(now - sentMs);
    if (q.done) return;
    if (info.flags & FLAG_TC && !viaTcp) {
      server.stats.truncated++;
      if (!q.tcpTried) this.retryTcp(q, server, now);
      return;
    }
    this.finish(q);
    if (q.key !== undefined) this.options.cache?.put(q.key, msg, info, now);
    // The client's spelling of the name, whatever case the upstream answered in (DNS 0x20).
    if (info.qdcount === 1) echoQuestion(msg, qnameCopies(msg, info), q.buf, q.info.questionEnd);
    write16(msg, q.clientId, 0);
    const answer = info.end < msg.length ? msg.subarray(0, info.end) : msg;
    this.send(q.reply, answer.length > q.limit ? truncate(answer, info.questionEnd) : answer);
  }

  /** RFC 7766 §5: a truncated UDP answer is asked again over TCP, on a marked connection to the same server. */
  private retryTcp(q: Query, server: Server, now: number): void {
    q.tcpTried = true;
    q.outstanding++;
    this.options.counters.tcpRetries++;
    server.stats.tcp++;
    const query = q.buf.slice();
    const id = random16();
    write16(query, id, 0);
    const wait = Math.max(1, q.deadlineMs - now);
    const open: TcpOpen = { server, abort: new Abort() };
    this.tcpOpen.add(open);
    tcpExchange(this.options.addon, server, this.options.mark, query, wait, open.abort)
      .then(
        (answer) => {
          this.tcpOpen.delete(open);
          q.outstanding--;
          const info = answer.length >= HEADER_BYTES && read16(answer, 0) === id ? this.checkAnswer(q, answer) : undefined;
          if (info === undefined) return this.sendNext(q, nowMs());
          this.accept(q, server, answer, info, now, true);
        },
        (err: unknown) => {
          this.tcpOpen.delete(open);
          q.outstanding--;
          if (open.abort.aborted) return this.tcpAborted(q, server, open.abort.reason);
          if (err instanceof Error && err.name === 'MarkError') {
            this.options.counters.refusedUnmarked++;
            this.options.log.once('unmarked-tcp', 'err', `TCP upstream socket: ${err.message}: sending nothing`);
          }
          server.failed(nowMs());
          this.sendNext(q, nowMs());
        },
      )
      .catch((err: unknown) => this.internalError(err));
  }
}

/** The header and question of `answer` with TC set: what a UDP client gets when the answer is too big for it. */
export function truncate(answer: Uint8Array, questionEnd: number): Uint8Array {
  const out = answer.slice(0, questionEnd);
  write16(out, read16(out, 2) | FLAG_TC, 2);
  write16(out, questionEnd > HEADER_BYTES ? 1 : 0, 4);
  write32(out, 0, 6);
  write16(out, 0, 10);
  return out;
}
