/**
 * Integers in netlink messages, which are in host byte order (big-endian on ath79): read and written through a
 * DataView with the host's endianness (@meshwan/os hostLittleEndian). Decoding walks one receive buffer, so the
 * view of the last buffer is kept rather than made per read.
 */
import { hostLittleEndian } from '@meshwan/os';

const LE = hostLittleEndian;
let lastBytes: Uint8Array | undefined;
let lastView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function view(bytes: Uint8Array): DataView {
  if (bytes !== lastBytes) {
    lastView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    lastBytes = bytes;
  }
  return lastView;
}

/**
 * Where each byte of a host-order integer sits: B0 is the least significant. Reads compose bytes (one call, no
 * branch; a DataView read was three calls on QuickJS, whose calls are what a 100k-route dump spends its time on),
 * and the hottest loop (readRoute) inlines them with these.
 */
export const B0 = LE ? 0 : 3;
export const B1 = LE ? 1 : 2;
export const B2 = LE ? 2 : 1;
export const B3 = LE ? 3 : 0;
/** struct nlattr { u16 nla_len; u16 nla_type } read as one host-order u32: where each half sits */
export const NLA_LEN_SHIFT = LE ? 0 : 16;
export const NLA_TYPE_SHIFT = LE ? 16 : 0;
/** of a u16: its low and high byte */
export const L16 = LE ? 0 : 1;
export const H16 = 1 - L16;

export const u16 = (b: Uint8Array, at: number): number => (b[at + L16] ?? 0) | ((b[at + H16] ?? 0) << 8);
export const i32 = (b: Uint8Array, at: number): number =>
  (b[at + B0] ?? 0) | ((b[at + B1] ?? 0) << 8) | ((b[at + B2] ?? 0) << 16) | ((b[at + B3] ?? 0) << 24);
export const u32 = (bytes: Uint8Array, at: number): number => i32(bytes, at) >>> 0;
export const setU16 = (bytes: Uint8Array, at: number, v: number): void => view(bytes).setUint16(at, v, LE);
export const setU32 = (bytes: Uint8Array, at: number, v: number): void => view(bytes).setUint32(at, v, LE);
export const setI32 = (bytes: Uint8Array, at: number, v: number): void => view(bytes).setInt32(at, v, LE);

let wordsOf: Uint8Array | undefined;
let words: Uint32Array | undefined;

/**
 * `bytes` as 32-bit words (host order), when it starts 4-aligned in its buffer (a socket's receive buffer does;
 * netlink aligns every message and attribute to 4): an address is compared in 4 reads rather than 16. The view of
 * the last buffer is kept, as for reads.
 */
export function wordsOfBytes(bytes: Uint8Array): Uint32Array | undefined {
  if (bytes !== wordsOf) {
    wordsOf = bytes;
    words = (bytes.byteOffset & 3) === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2) : undefined;
  }
  return words;
}
