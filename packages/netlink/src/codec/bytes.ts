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

export const u16 = (bytes: Uint8Array, at: number): number => view(bytes).getUint16(at, LE);
export const u32 = (bytes: Uint8Array, at: number): number => view(bytes).getUint32(at, LE);
export const i32 = (bytes: Uint8Array, at: number): number => view(bytes).getInt32(at, LE);
export const setU16 = (bytes: Uint8Array, at: number, v: number): void => view(bytes).setUint16(at, v, LE);
export const setU32 = (bytes: Uint8Array, at: number, v: number): void => view(bytes).setUint32(at, v, LE);
export const setI32 = (bytes: Uint8Array, at: number, v: number): void => view(bytes).setInt32(at, v, LE);
