/**
 * One routing table of one family, indexed for longest-prefix match. Every prefix length present has a Level: an
 * open-addressing hash table (linear probing, backward-shift deletion) from the prefix's masked address words to
 * the routes under that prefix, at most a quarter full so that a probe rarely passes another prefix. A lookup probes the levels present, longest first; a table holds few distinct
 * lengths (a node's main table: 128, 64, 48 and 0), so that is a handful of integer hashes and compares with
 * nothing allocated, where a trie would visit a node per distinguishing bit.
 *
 * A slot holds the first Entry of its prefix; the others follow through `next` in the kernel's preference order:
 * IPv4 by tos (non-zero first) then metric (fib_trie's fa list), IPv6 by source prefix length (longest first, the
 * fib6 source subtree) then metric. The keys live in the entries, so a hit touches two cache lines (the slot and
 * the Entry the lookup needs anyway): on 100k routes the lookup is bound by cache misses more than by arithmetic.
 */
import { RTNH_F_DEAD } from './codec/constants.js';
import type { Nexthop, Route } from './codec/route.js';
import { maskWord, NOT_IP, parseAddressInto } from './prefix.js';

/** Entry.kind: what the route does with a packet that reaches it. */
export const FORWARD = 0;
export const THROW = 1;
export const UNREACHABLE = 2;
export const PROHIBIT = 3;
const BLACKHOLE = 4;

function kindOf(type: string): number {
  switch (type) {
    case 'throw':
      return THROW;
    case 'unreachable':
      return UNREACHABLE;
    case 'prohibit':
      return PROHIBIT;
    case 'blackhole':
      return BLACKHOLE;
    default:
      return FORWARD;
  }
}

/** Route types that carry nexthops to check (fib_props error 0); reject, throw and nat routes have none. */
const HAS_NEXTHOPS = new Set(['unicast', 'local', 'broadcast', 'multicast', 'anycast']);

const DEAD_BIT = 8;
const NEXTHOPS_BIT = 16;

const ZERO = new Int32Array(4);
/** words of the address being indexed (one buffer: indexing is synchronous) */
const scratch = new Int32Array(4);

/**
 * A route with what the lookup reads flattened into one fixed shape (a class, so property reads stay monomorphic).
 * The fields a lookup reads come first and the small ones share one integer, so that they mostly lie within one
 * cache line.
 */
export class Entry {
  // the fields a lookup reads, contiguous (class fields are laid out in declaration order)
  /** the destination prefix's masked words */
  readonly k0: number;
  readonly k1: number;
  readonly k2: number;
  readonly k3: number;
  /** kind (bits 0-2), RTNH_F_DEAD on the route (3), has nexthops to check (4), tos (8-15), dst length (16-23) */
  readonly bits: number;
  /** a source-specific route (IPv6 `from`): the masked source words [0..3] and the mask [4..7]; else undefined */
  readonly src: Int32Array | undefined;
  /** the route's multipath nexthops (read here, not from the route: decoded routes differ in shape, and a
   * property read across many shapes is slow) */
  readonly nexthops: readonly Nexthop[] | undefined;
  readonly route: Route;
  /** the next route under the same prefix, in preference order */
  next: Entry | undefined;
  readonly metric: number;
  /** the single nexthop's output interface, -1 when absent */
  readonly oif: number;

  constructor(route: Route) {
    this.route = route;
    const dst = parseAddressInto(route.dst, scratch) === NOT_IP ? ZERO : scratch;
    this.k0 = (dst[0] as number) & maskWord(route.dstLength, 0);
    this.k1 = (dst[1] as number) & maskWord(route.dstLength, 1);
    this.k2 = (dst[2] as number) & maskWord(route.dstLength, 2);
    this.k3 = (dst[3] as number) & maskWord(route.dstLength, 3);
    this.bits =
      kindOf(route.type) |
      ((route.flags & RTNH_F_DEAD) !== 0 ? DEAD_BIT : 0) |
      (HAS_NEXTHOPS.has(route.type) ? NEXTHOPS_BIT : 0) |
      ((route.tos & 0xff) << 8) |
      ((route.dstLength & 0xff) << 16);
    let src: Int32Array | undefined;
    if (route.src !== undefined && route.srcLength > 0 && parseAddressInto(route.src, scratch) !== NOT_IP) {
      src = new Int32Array(8);
      for (let k = 0; k < 4; k++) {
        src[k + 4] = maskWord(route.srcLength, k);
        src[k] = (scratch[k] as number) & (src[k + 4] as number);
      }
    }
    this.src = src;
    this.metric = route.metric;
    this.oif = route.oif ?? -1;
    this.nexthops = route.nexthops;
    this.next = undefined;
  }

  /** FORWARD, THROW, UNREACHABLE, PROHIBIT or BLACKHOLE */
  get kind(): number {
    return this.bits & 7;
  }
  /** RTNH_F_DEAD on the route itself (its single nexthop is down) */
  get dead(): boolean {
    return (this.bits & DEAD_BIT) !== 0;
  }
  /** whether the route has nexthops to check (unicast, local, ...) */
  get hasNexthops(): boolean {
    return (this.bits & NEXTHOPS_BIT) !== 0;
  }
  get tos(): number {
    return (this.bits >> 8) & 0xff;
  }
  get dstLength(): number {
    return (this.bits >> 16) & 0xff;
  }
}

/** Whether `a` goes after `b` under one prefix. */
function after(a: Entry, b: Entry): boolean {
  if (a.route.family === 4) return (b.tos - a.tos || a.metric - b.metric) > 0;
  return (b.route.srcLength - a.route.srcLength || a.metric - b.metric) > 0;
}

/** Mixes four masked words into a 32-bit hash (multiply-xorshift rounds, as in MurmurHash3's finalizer). */
function hash(k0: number, k1: number, k2: number, k3: number): number {
  let h = Math.imul(k0 ^ 0x3c6ef372, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ k1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ k2, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ k3, 0x27d4eb2f);
  return h ^ (h >>> 15);
}

/** The prefixes of one length: masked words -> the first of their routes. */
export class Level {
  readonly length: number;
  readonly m0: number;
  readonly m1: number;
  readonly m2: number;
  readonly m3: number;
  /** number of prefixes held */
  count = 0;
  private slots: (Entry | undefined)[] = new Array<Entry | undefined>(8).fill(undefined);

  constructor(length: number) {
    this.length = length;
    this.m0 = maskWord(length, 0);
    this.m1 = maskWord(length, 1);
    this.m2 = maskWord(length, 2);
    this.m3 = maskWord(length, 3);
  }

  /** The first route under the prefix of this length that covers the address w0..w3, or undefined. */
  get(w0: number, w1: number, w2: number, w3: number): Entry | undefined {
    const k0 = w0 & this.m0;
    const k1 = w1 & this.m1;
    const k2 = w2 & this.m2;
    const k3 = w3 & this.m3;
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = hash(k0, k1, k2, k3) & mask; ; i = (i + 1) & mask) {
      const e = slots[i];
      if (e === undefined) return undefined;
      if (e.k0 === k0 && e.k1 === k1 && e.k2 === k2 && e.k3 === k3) return e;
    }
  }

  /** The slot holding the prefix of `e`, or the empty slot where it would go. */
  private slotOf(e: Entry): number {
    const mask = this.slots.length - 1;
    let i = hash(e.k0, e.k1, e.k2, e.k3) & mask;
    for (let o = this.slots[i]; o !== undefined; o = this.slots[i]) {
      if (o.k0 === e.k0 && o.k1 === e.k1 && o.k2 === e.k2 && o.k3 === e.k3) break;
      i = (i + 1) & mask;
    }
    return i;
  }

  add(entry: Entry): void {
    if (4 * (this.count + 1) > this.slots.length) this.grow();
    const i = this.slotOf(entry);
    let head = this.slots[i];
    if (head === undefined || after(head, entry)) {
      if (head === undefined) this.count++;
      entry.next = head;
      this.slots[i] = entry;
      return;
    }
    while (head.next !== undefined && !after(head.next, entry)) head = head.next;
    entry.next = head.next;
    head.next = entry;
  }

  /** Removes `entry`; false when it is not here. */
  remove(entry: Entry): boolean {
    let i = this.slotOf(entry);
    const head = this.slots[i];
    if (head === undefined) return false;
    if (head !== entry) {
      let prev = head;
      while (prev.next !== undefined && prev.next !== entry) prev = prev.next;
      if (prev.next !== entry) return false;
      prev.next = entry.next;
      entry.next = undefined;
      return true;
    }
    const rest = entry.next;
    entry.next = undefined;
    if (rest !== undefined) {
      this.slots[i] = rest;
      return true;
    }
    // the prefix is gone: Knuth's deletion for linear probing moves later members of the run back
    this.count--;
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const e = slots[j];
      if (e === undefined) break;
      const home = hash(e.k0, e.k1, e.k2, e.k3) & mask;
      // the entry at j may move to the hole at i unless its home slot lies cyclically in (i, j]
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      slots[i] = e;
      i = j;
    }
    slots[i] = undefined;
    return true;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Array<Entry | undefined>(old.length * 2).fill(undefined);
    for (const head of old) if (head !== undefined) this.slots[this.slotOf(head)] = head;
  }

  *entries(): Generator<Entry> {
    for (let e of this.slots) for (; e !== undefined; e = e.next) yield e;
  }
}

export class TableIndex {
  /** the prefix lengths present, longest first */
  levels: Level[] = [];
  private readonly byLength: (Level | undefined)[] = [];
  size = 0;

  add(route: Route): Entry {
    const entry = new Entry(route);
    let level = this.byLength[entry.dstLength];
    if (!level) {
      level = new Level(entry.dstLength);
      this.byLength[entry.dstLength] = level;
      this.levels.push(level);
      this.levels.sort((a, b) => b.length - a.length);
    }
    level.add(entry);
    this.size++;
    return entry;
  }

  remove(entry: Entry): void {
    const level = this.byLength[entry.dstLength];
    if (!level?.remove(entry)) return;
    this.size--;
    if (level.count === 0) {
      this.byLength[level.length] = undefined;
      this.levels = this.levels.filter((l) => l !== level);
    }
  }

  /** Every entry, longest prefixes first. */
  *entries(): Generator<Entry> {
    for (const level of this.levels) yield* level.entries();
  }
}
