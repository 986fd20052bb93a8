/**
 * The optional answer cache (`--cache-size N`, 0 = off as in Gluon). Whole answers are kept per question, with
 * the offsets of their TTL fields, so a hit is one copy and a few 32-bit writes with the TTLs decremented.
 * Negative answers (NXDOMAIN, NODATA) are cached per RFC 2308 §5 for min(SOA TTL, SOA MINIMUM) and only when
 * the SOA is there; SERVFAIL is never cached. Insertion fully decodes the answer with dns-packet as validation.
 * Eviction is oldest-inserted first (Map order); memory is bounded by entries x 64 KiB at most.
 */
import { Buffer } from 'buffer';
import dnsPacket from 'dns-packet';
import { read32, write16, write32 } from './bytes.js';
import { echoQuestion, FLAG_TC, type MessageInfo, qnameCopies, RCODE_NOERROR, RCODE_NXDOMAIN, ttlOffsets } from './wire.js';

interface Entry {
  data: Uint8Array;
  offsets: number[];
  ttls: number[];
  storedMs: number;
  expiresMs: number;
  negative: boolean;
  questionEnd: number;
  /** Where the answer spells QNAME outside the question (wire.ts qnameCopies): each client gets its own case. */
  copies: number[];
}

/** RFC 8767 and common practice: cap positive TTLs at a day; RFC 2308 §5: negative at 3 hours. */
const MAX_TTL_SECONDS = 86_400;
const MAX_NEGATIVE_TTL_SECONDS = 10_800;

/** A record's TTL; RFC 2181 §8: one with the top bit set is treated as zero. */
function ttlAt(buf: Uint8Array, offset: number): number {
  const ttl = read32(buf, offset);
  return ttl > 0x7fffffff ? 0 : ttl;
}

/**
 * Heap one entry may take (Map slot, key string, Entry, TTL arrays, the Uint8Array object; its bytes are off-heap),
 * with room to spare: measured 400-500 bytes for small answers.
 */
const ENTRY_HEAP_BYTES = 1024;
/** Heap kept for everything else: node's own ~4 MiB, queries in flight, TCP, the route cache. */
const HEAP_RESERVE_BYTES = 16 * 1024 * 1024;

/**
 * How many entries a cache may hold under V8's heap limit (`node --max-old-space-size`, v8.getHeapStatistics()
 * heap_size_limit): `requested`, or fewer when that many could exhaust the heap, which ends the process.
 */
export function cacheEntriesFor(requested: number, heapLimitBytes: number): number {
  const fits = Math.floor((heapLimitBytes - HEAP_RESERVE_BYTES) / ENTRY_HEAP_BYTES);
  return Math.max(0, Math.min(requested, fits));
}

export class Cache {
  private readonly entries = new Map<string, Entry>();
  hits = 0;
  misses = 0;
  inserts = 0;

  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached answer with ID 0 and TTLs decremented, or undefined when absent or expired. With `query` (the
   * asking client's message, whose question has this key) the answer spells the name as that client did, not
   * as the first asker did (DNS 0x20).
   */
  get(key: string, nowMs: number, query?: Uint8Array): Uint8Array | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    if (nowMs >= entry.expiresMs) {
      this.entries.delete(key);
      this.misses++;
      return undefined;
    }
    this.hits++;
    const elapsed = Math.floor((nowMs - entry.storedMs) / 1000);
    const remaining = Math.ceil((entry.expiresMs - nowMs) / 1000);
    const out = entry.data.slice();
    const { offsets, ttls } = entry;
    for (let i = 0; i < offsets.length; i++) {
      let ttl = (ttls[i] as number) - elapsed;
      // RFC 2308 §5: a negative answer's SOA TTL counts down the negative TTL.
      if (entry.negative && ttl > remaining) ttl = remaining;
      write32(out, ttl < 0 ? 0 : ttl, offsets[i] as number);
    }
    if (query !== undefined) echoQuestion(out, entry.copies, query, entry.questionEnd);
    return out;
  }

  /** Stores `msg` (a validated answer to the question in `key`) when it is cacheable. Returns its TTL or 0. */
  put(key: string, msg: Uint8Array, info: MessageInfo, nowMs: number): number {
    if (this.maxEntries <= 0 || info.flags & FLAG_TC) return 0;
    if (info.rcode !== RCODE_NOERROR && info.rcode !== RCODE_NXDOMAIN) return 0;
    const negative = info.rcode === RCODE_NXDOMAIN || info.ancount === 0;
    // TTLs from the fast walk first: most uncacheable answers (TTL 0) never pay for the full decode.
    const offsets = ttlOffsets(info);
    let ttlSeconds = MAX_TTL_SECONDS;
    for (const o of offsets) {
      const ttl = ttlAt(msg, o);
      if (ttl < ttlSeconds) ttlSeconds = ttl;
    }
    if (ttlSeconds <= 0 && !negative) return 0;
    let packet: dnsPacket.Packet;
    try {
      // The full decode validates every record before an answer is kept and served again and again.
      // dns-packet reads a Buffer: a view of the same bytes (Node's own, or the npm buffer package on QuickJS).
      packet = dnsPacket.decode(Buffer.from(msg.buffer, msg.byteOffset, msg.length));
    } catch {
      return 0;
    }
    if (negative) {
      const soa = (packet.authorities ?? []).find((r) => (r as { type?: string }).type === 'SOA') as dnsPacket.SoaAnswer | undefined;
      // RFC 2308 §5: no SOA, no negative caching; its TTL is min(SOA TTL, SOA MINIMUM).
      if (soa === undefined || soa.ttl === undefined) return 0;
      ttlSeconds = Math.min(soa.ttl, soa.data.minimum ?? 0, MAX_NEGATIVE_TTL_SECONDS);
    }
    if (ttlSeconds <= 0) return 0;
    const data = msg.slice(0, info.end);
    write16(data, 0, 0);
    const cap = negative ? MAX_NEGATIVE_TTL_SECONDS : MAX_TTL_SECONDS;
    const ttls = offsets.map((o) => Math.min(ttlAt(data, o), cap));
    this.entries.delete(key);
    const copies = qnameCopies(data, info);
    this.entries.set(key, {
      data,
      offsets,
      ttls,
      storedMs: nowMs,
      expiresMs: nowMs + ttlSeconds * 1000,
      negative,
      questionEnd: info.questionEnd,
      copies,
    });
    this.inserts++;
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    return ttlSeconds;
  }

  clear(): void {
    this.entries.clear();
  }
}
