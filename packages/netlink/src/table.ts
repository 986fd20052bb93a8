/**
 * One routing table of one family, indexed for longest-prefix match: prefix length -> one Map level per 32-bit
 * word of the prefix -> routes. Routes under one prefix are kept in the kernel's preference order: IPv4 by tos
 * (non-zero first) then metric (fib_trie's fa list), IPv6 by source prefix length (longest first, the fib6 source
 * subtree) then metric.
 */
import type { Route } from './codec/route.js';
import { addressWords, levelKey } from './prefix.js';

export interface Entry {
  route: Route;
  /** the source prefix's words (IPv6 source-specific routes), undefined for none */
  srcWords: number[] | undefined;
}

type Level = Map<number, Level | Entry[]>;

function compare(a: Entry, b: Entry): number {
  if (a.route.family === 'inet') return b.route.tos - a.route.tos || a.route.metric - b.route.metric;
  return b.route.srcLength - a.route.srcLength || a.route.metric - b.route.metric;
}

export class TableIndex {
  /** prefix lengths present, longest first */
  lengths: number[] = [];
  private readonly roots = new Map<number, Level>();
  private readonly zero: Entry[] = [];
  private readonly counts = new Map<number, number>();
  size = 0;

  /** The routes under exactly this prefix, or undefined. */
  find(words: readonly number[], length: number): Entry[] | undefined {
    if (length === 0) return this.zero.length ? this.zero : undefined;
    let node: Level | Entry[] | undefined = this.roots.get(length);
    const levels = (length + 31) >> 5;
    for (let k = 0; k < levels && node !== undefined; k++) node = (node as Level).get(levelKey(words, k, length));
    return node as Entry[] | undefined;
  }

  private bucketFor(words: readonly number[], length: number): Entry[] {
    if (length === 0) return this.zero;
    let node = this.roots.get(length);
    if (!node) {
      node = new Map();
      this.roots.set(length, node);
    }
    const levels = (length + 31) >> 5;
    for (let k = 0; k < levels; k++) {
      const key = levelKey(words, k, length);
      let next = node.get(key);
      if (next === undefined) {
        next = k === levels - 1 ? [] : new Map();
        node.set(key, next);
      }
      if (k === levels - 1) return next as Entry[];
      node = next as Level;
    }
    throw new Error('unreachable');
  }

  add(route: Route): Entry {
    const words = addressWords(route.dst) ?? [0, 0, 0, 0];
    const srcWords = route.src !== undefined && route.srcLength > 0 ? addressWords(route.src) : undefined;
    const entry: Entry = { route, srcWords };
    const bucket = this.bucketFor(words, route.dstLength);
    let i = bucket.length;
    while (i > 0 && compare(bucket[i - 1] as Entry, entry) > 0) i--;
    bucket.splice(i, 0, entry);
    const count = (this.counts.get(route.dstLength) ?? 0) + 1;
    this.counts.set(route.dstLength, count);
    if (count === 1) {
      this.lengths.push(route.dstLength);
      this.lengths.sort((a, b) => b - a);
    }
    this.size++;
    return entry;
  }

  remove(entry: Entry): void {
    const words = addressWords(entry.route.dst) ?? [0, 0, 0, 0];
    const length = entry.route.dstLength;
    const bucket = this.find(words, length);
    const i = bucket ? bucket.indexOf(entry) : -1;
    if (!bucket || i < 0) return;
    bucket.splice(i, 1);
    this.size--;
    const count = (this.counts.get(length) ?? 1) - 1;
    if (bucket.length === 0 && length > 0) {
      // drop the empty bucket from its parent level (empty inner levels stay; they are few and reused)
      let node = this.roots.get(length) as Level;
      const levels = (length + 31) >> 5;
      for (let k = 0; k < levels - 1; k++) node = node.get(levelKey(words, k, length)) as Level;
      node.delete(levelKey(words, levels - 1, length));
    }
    if (count === 0) {
      this.counts.delete(length);
      this.roots.delete(length);
      this.lengths = this.lengths.filter((l) => l !== length);
    } else this.counts.set(length, count);
  }

  /** Every entry, longest prefixes first. */
  *entries(): Generator<Entry> {
    function* walk(node: Level | Entry[]): Generator<Entry> {
      if (Array.isArray(node)) yield* node;
      else for (const child of node.values()) yield* walk(child);
    }
    for (const length of this.lengths) {
      if (length === 0) yield* this.zero;
      else {
        const root = this.roots.get(length);
        if (root) yield* walk(root);
      }
    }
  }
}
