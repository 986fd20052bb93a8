/**
 * One routing table of one family, indexed for longest-prefix match: prefix length -> prefix key -> routes.
 * Routes under one prefix are kept in the kernel's preference order: IPv4 by tos (non-zero first) then metric
 * (fib_trie's fa list), IPv6 by source prefix length (longest first, the fib6 source subtree) then metric.
 */
import type { Route } from './codec/route.js';
import { addressHex, prefixKey } from './prefix.js';

export interface Entry {
  route: Route;
  key: string;
  /** hex key of the source prefix (IPv6 source-specific routes), '' for none */
  srcKey: string;
}

function compare(a: Entry, b: Entry): number {
  if (a.route.family === 'inet') return b.route.tos - a.route.tos || a.route.metric - b.route.metric;
  return b.route.srcLength - a.route.srcLength || a.route.metric - b.route.metric;
}

export class TableIndex {
  /** prefix lengths present, longest first */
  lengths: number[] = [];
  readonly byLength = new Map<number, Map<string, Entry[]>>();
  size = 0;

  add(route: Route): Entry {
    const hex = addressHex(route.dst) ?? '';
    const srcHex = route.src !== undefined && route.srcLength > 0 ? (addressHex(route.src) ?? '') : '';
    const entry: Entry = { route, key: prefixKey(hex, route.dstLength), srcKey: srcHex && prefixKey(srcHex, route.srcLength) };
    let level = this.byLength.get(route.dstLength);
    if (!level) {
      level = new Map();
      this.byLength.set(route.dstLength, level);
      this.lengths.push(route.dstLength);
      this.lengths.sort((a, b) => b - a);
    }
    const bucket = level.get(entry.key);
    if (!bucket) level.set(entry.key, [entry]);
    else {
      let i = bucket.length;
      while (i > 0 && compare(bucket[i - 1] as Entry, entry) > 0) i--;
      bucket.splice(i, 0, entry);
    }
    this.size++;
    return entry;
  }

  remove(entry: Entry): void {
    const level = this.byLength.get(entry.route.dstLength);
    const bucket = level?.get(entry.key);
    if (!level || !bucket) return;
    const i = bucket.indexOf(entry);
    if (i < 0) return;
    bucket.splice(i, 1);
    this.size--;
    if (bucket.length > 0) return;
    level.delete(entry.key);
    if (level.size > 0) return;
    this.byLength.delete(entry.route.dstLength);
    this.lengths = this.lengths.filter((l) => l !== entry.route.dstLength);
  }
}
