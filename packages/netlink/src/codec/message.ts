/**
 * Netlink framing (linux/netlink.h): struct nlmsghdr (16 bytes) and struct nlattr/rtattr TLVs padded to 4 bytes.
 * Decoding checks every length before reading; encoding goes through MessageWriter, which fills in lengths.
 */
import { decodeUtf8, encodeUtf8 } from '@meshwan/os';
import { DecodeError } from '../errors.js';
import { B0, B1, B2, B3, H16, i32, L16, setI32, setU16, setU32, u16, u32 } from './bytes.js';
import { NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_ERROR, NLMSGERR_ATTR_MSG } from './constants.js';

export const NLMSG_HDRLEN = 16;
const align4 = (n: number): number => (n + 3) & ~3;

export interface MessageHeader {
  length: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

/** One attribute kept as it came: the type (without NLA_F_NESTED/NLA_F_NET_BYTEORDER bits kept) and a copy of its payload. */
export interface RawAttribute {
  type: number;
  bytes: Uint8Array;
}

export function decodeHeader(buf: Uint8Array, offset: number, limit: number): MessageHeader {
  return readHeader(buf, offset, limit, { length: 0, type: 0, flags: 0, seq: 0, pid: 0 });
}

/** decodeHeader into `into`, an object reused for every message of a receive buffer (no object per message). */
export function readHeader(buf: Uint8Array, offset: number, limit: number, into: MessageHeader): MessageHeader {
  if (limit - offset < NLMSG_HDRLEN) throw new DecodeError(offset, `truncated nlmsghdr: ${limit - offset} bytes left, need 16`);
  // bytes.ts's reads inlined (offset + 16 <= limit keeps them in bounds): every message of a dump passes here
  const length =
    ((buf[offset + B0] as number) |
      ((buf[offset + B1] as number) << 8) |
      ((buf[offset + B2] as number) << 16) |
      ((buf[offset + B3] as number) << 24)) >>>
    0;
  if (length < NLMSG_HDRLEN || offset + length > limit) throw new DecodeError(offset, `nlmsg_len ${length} outside 16..${limit - offset}`);
  into.length = length;
  into.type = (buf[offset + 4 + L16] as number) | ((buf[offset + 4 + H16] as number) << 8);
  into.flags = (buf[offset + 6 + L16] as number) | ((buf[offset + 6 + H16] as number) << 8);
  into.seq =
    ((buf[offset + 8 + B0] as number) |
      ((buf[offset + 8 + B1] as number) << 8) |
      ((buf[offset + 8 + B2] as number) << 16) |
      ((buf[offset + 8 + B3] as number) << 24)) >>>
    0;
  into.pid =
    ((buf[offset + 12 + B0] as number) |
      ((buf[offset + 12 + B1] as number) << 8) |
      ((buf[offset + 12 + B2] as number) << 16) |
      ((buf[offset + 12 + B3] as number) << 24)) >>>
    0;
  return into;
}

/**
 * Calls `visit(type, start, end)` for every attribute in buf[offset, end). The payload is buf[start, end).
 * Throws DecodeError on a length that runs past the container.
 */
export function forEachAttribute(
  buf: Uint8Array,
  offset: number,
  end: number,
  visit: (type: number, start: number, stop: number) => void,
): void {
  let at = offset;
  while (at + 4 <= end) {
    const len = u16(buf, at);
    const type = u16(buf, at + 2) & 0x3fff; // strip NLA_F_NESTED and NLA_F_NET_BYTEORDER
    if (len < 4 || at + len > end) throw new DecodeError(at, `attribute type ${type} length ${len} outside 4..${end - at}`);
    visit(type, at + 4, at + len);
    at += align4(len);
  }
  checkAttributesEnd(buf, at, end);
}

/**
 * After a walk over attributes stopped at `at`: what is left before `end` must be zero padding shorter than an
 * attribute header (which the kernel never sends); anything else is a DecodeError. Every attribute loop ends here.
 */
export function checkAttributesEnd(buf: Uint8Array, at: number, end: number): void {
  if (at < end && (end - at >= 4 || buf.subarray(at, end).some((b) => b !== 0)))
    throw new DecodeError(at, `${end - at} trailing bytes after attributes`);
}

const SLAB_BYTES = 64 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabAt = 0;

/**
 * A copy of buf[start, end). Small copies are cut from a shared slab (as Node's Buffer pool does), so the 100k
 * addresses of a 100k-route dump cost no 100k ArrayBuffers.
 */
export function copyBytes(buf: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n > 1024) return buf.slice(start, end);
  if (slabAt + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabAt = 0;
  }
  const out = slab.subarray(slabAt, slabAt + n);
  out.set(buf.subarray(start, end));
  slabAt = (slabAt + n + 7) & ~7;
  return out;
}

function expectLength(type: string, start: number, end: number, want: number): void {
  if (end - start !== want) throw new DecodeError(start, `${type}: payload of ${end - start} bytes, expected ${want}`);
}

export function readU32Attr(buf: Uint8Array, name: string, start: number, end: number): number {
  if (end - start !== 4) expectLength(name, start, end, 4);
  return u32(buf, start);
}

/** A NUL-terminated string attribute (IFLA_IFNAME, FRA_IIFNAME). */
export function readStringAttr(buf: Uint8Array, start: number, end: number): string {
  let stop = start;
  while (stop < end && buf[stop] !== 0) stop++;
  return decodeUtf8(buf, start, stop);
}

export interface ErrorReply {
  error: number;
  /** NLMSGERR_ATTR_MSG from the extended ack, when present */
  message: string;
}

/** Decodes the payload of NLMSG_ERROR (struct nlmsgerr, then optional ext-ack TLVs). */
export function decodeError(buf: Uint8Array, header: MessageHeader, offset: number): ErrorReply {
  const body = offset + NLMSG_HDRLEN;
  const end = offset + header.length;
  if (header.type !== NLMSG_ERROR || end - body < 4) throw new DecodeError(body, 'truncated nlmsgerr');
  const error = i32(buf, body);
  let message = '';
  if (header.flags & NLM_F_ACK_TLVS && end - body >= 20) {
    const inner = u32(buf, body + 4);
    const tlvStart = body + 4 + (header.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(inner));
    if (tlvStart <= end)
      forEachAttribute(buf, tlvStart, end, (type, s, e) => {
        if (type === NLMSGERR_ATTR_MSG) message = readStringAttr(buf, s, e);
      });
  }
  return { error, message };
}

/** Builds one netlink message: header, fixed body, attributes (nested ones too). Lengths are filled in by finish(). */
export class MessageWriter {
  private buf: Uint8Array;
  private at = NLMSG_HDRLEN;
  private readonly nests: number[] = [];

  constructor(type: number, flags: number, size = 256) {
    this.buf = new Uint8Array(size);
    setU16(this.buf, 4, type);
    setU16(this.buf, 6, flags);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf);
    this.buf = next;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.at++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    setU16(this.buf, this.at, v & 0xffff);
    this.at += 2;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    setU32(this.buf, this.at, v >>> 0);
    this.at += 4;
    return this;
  }
  i32(v: number): this {
    this.room(4);
    setI32(this.buf, this.at, v | 0);
    this.at += 4;
    return this;
  }

  /** An attribute with raw bytes (padded to 4). */
  attr(type: number, bytes: Uint8Array): this {
    const len = 4 + bytes.length;
    this.room(align4(len));
    setU16(this.buf, this.at, len);
    setU16(this.buf, this.at + 2, type);
    this.buf.set(bytes, this.at + 4);
    this.at += align4(len);
    return this;
  }
  attrU32(type: number, v: number): this {
    const b = new Uint8Array(4);
    setU32(b, 0, v >>> 0);
    return this.attr(type, b);
  }
  attrU8(type: number, v: number): this {
    return this.attr(type, Uint8Array.of(v));
  }
  attrString(type: number, s: string): this {
    return this.attr(type, encodeUtf8(`${s}\0`));
  }
  /** Opens a nested attribute (or a struct with trailing attributes, like rtnexthop); close with end(). */
  begin(type: number): this {
    this.room(4);
    this.nests.push(this.at);
    setU16(this.buf, this.at + 2, type);
    this.at += 4;
    return this;
  }
  /** Starts a raw region whose u16 length lives at its first two bytes (rtnexthop.rtnh_len). */
  beginRaw(): number {
    this.nests.push(this.at);
    return this.at;
  }
  end(): this {
    const start = this.nests.pop();
    if (start === undefined) throw new Error('MessageWriter.end without begin');
    setU16(this.buf, start, this.at - start);
    const aligned = align4(this.at);
    this.room(aligned - this.at);
    this.at = aligned;
    return this;
  }

  /** Sets seq and length; returns the message bytes. */
  finish(seq: number): Uint8Array {
    setU32(this.buf, 0, this.at);
    setU32(this.buf, 8, seq >>> 0);
    return this.buf.subarray(0, this.at);
  }
}
