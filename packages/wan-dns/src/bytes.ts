/**
 * Big-endian reads and writes on plain Uint8Arrays: what the forwarder's hot path needs of Node's Buffer, so the
 * same code runs on QuickJS (no Buffer there; dns-packet gets the npm `buffer` package, cache.ts only).
 */

export function read16(buf: Uint8Array, at: number): number {
  return ((buf[at] as number) << 8) | (buf[at + 1] as number);
}

export function write16(buf: Uint8Array, value: number, at: number): void {
  buf[at] = value >>> 8;
  buf[at + 1] = value;
}

export function read32(buf: Uint8Array, at: number): number {
  return (((buf[at] as number) << 24) | ((buf[at + 1] as number) << 16) | ((buf[at + 2] as number) << 8) | (buf[at + 3] as number)) >>> 0;
}

export function write32(buf: Uint8Array, value: number, at: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = value >>> 16;
  buf[at + 2] = value >>> 8;
  buf[at + 3] = value;
}

/**
 * Bytes [start, end) as a string of one char per byte (Buffer's 'latin1'): a Map key, never shown. One call into
 * the engine: on QuickJS a string built a byte at a time cost three times as much (an allocation per byte).
 */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  return String(Reflect.apply(String.fromCharCode, null, buf.subarray(start, end)));
}
