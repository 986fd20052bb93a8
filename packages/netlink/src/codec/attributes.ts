/**
 * Table-driven attribute decoding for the object messages (link, address, route, rule): each says, by C name, which
 * attribute fills which field and how it is read; readAttributes walks a message's attributes once. An attribute
 * the table does not name is kept raw in `unknown`.
 */
import { DecodeError } from '../errors.js';
import { u16 } from './bytes.js';
import * as rtnl from './constants.js';
import { formatIp } from './ip.js';
import { checkAttributesEnd, copyBytes, type RawAttribute, readStringAttr, readU32Attr } from './message.js';

type Constants = typeof rtnl;
/** The C names of the numbers in constants.ts (RTA_DST, FRA_PRIORITY, IFLA_MTU, …). */
type AttributeName = { [K in keyof Constants]: Constants[K] extends number ? K : never }[keyof Constants];
/** The fields of T that hold a V. */
type FieldOf<T, V> = { [K in keyof T]-?: Exclude<T[K], undefined> extends V ? K : never }[keyof T] & string;
/** Reads one attribute's payload buf[start, end) into the object; `alen` is the message family's address length. */
export type AttributeReader<T> = (into: T, buf: Uint8Array, start: number, end: number, alen: number) => void;

/** Which attribute fills which field: a u32, an address of the message's family, a NUL-terminated string, or `read`. */
export interface AttributeSpec<T> {
  readonly u32?: Partial<Record<AttributeName, FieldOf<T, number>>>;
  readonly ip?: Partial<Record<AttributeName, FieldOf<T, string>>>;
  readonly string?: Partial<Record<AttributeName, FieldOf<T, string>>>;
  readonly read?: Partial<Record<AttributeName, AttributeReader<T>>>;
}

/** A spec compiled into readers indexed by attribute type. */
export type AttributeTable<T> = readonly (AttributeReader<T> | undefined)[];

function readers<T extends object>(
  specs: Partial<Record<AttributeName, string>> | undefined,
  make: (name: string, field: string) => AttributeReader<T>,
) {
  return Object.entries(specs ?? {}).map(([name, field]) => [name, make(name, field ?? '')] as const);
}

/** Compiles a spec (once per message type, at load). */
export function attributeTable<T extends object>(spec: AttributeSpec<T>): AttributeTable<T> {
  const table: (AttributeReader<T> | undefined)[] = [];
  const all = [
    ...readers<T>(spec.u32, (name, field) => (into, buf, s, e) => {
      (into as Record<string, unknown>)[field] = readU32Attr(buf, name, s, e);
    }),
    ...readers<T>(spec.string, (_, field) => (into, buf, s, e) => {
      (into as Record<string, unknown>)[field] = readStringAttr(buf, s, e);
    }),
    ...readers<T>(spec.ip, (name, field) => (into, buf, s, e, alen) => {
      if (e - s !== alen) throw new DecodeError(s, `${name}: ${e - s} bytes, expected ${alen}`);
      (into as Record<string, unknown>)[field] = formatIp(buf, s, alen);
    }),
    ...Object.entries(spec.read ?? {}),
  ];
  // biome-ignore lint/performance/noDynamicNamespaceImportAccess: the specs name attributes as the C headers do; every message type imports constants.ts anyway
  for (const [name, read] of all) table[rtnl[name as AttributeName]] = read;
  return table;
}

/** Decodes the attributes in buf[offset, end) into `into` by `table`; DecodeError on a length past the container. */
export function readAttributes<T extends { unknown: RawAttribute[] }>(
  buf: Uint8Array,
  offset: number,
  end: number,
  table: AttributeTable<T>,
  into: T,
  alen = 0,
): void {
  // the loop is inlined (not forEachAttribute with a callback): a dump decodes 100k routes
  let at = offset;
  while (at + 4 <= end) {
    const len = u16(buf, at);
    const type = u16(buf, at + 2) & 0x3fff; // strip NLA_F_NESTED and NLA_F_NET_BYTEORDER
    if (len < 4 || at + len > end) throw new DecodeError(at, `attribute type ${type} length ${len} outside 4..${end - at}`);
    const read = table[type];
    if (read) read(into, buf, at + 4, at + len, alen);
    else into.unknown.push({ type, bytes: copyBytes(buf, at + 4, at + len) });
    at += (len + 3) & ~3;
  }
  checkAttributesEnd(buf, at, end);
}
