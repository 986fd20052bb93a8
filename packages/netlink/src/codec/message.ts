/**
 * Netlink framing (linux/netlink.h): struct nlmsghdr (16 bytes) and struct nlattr/rtattr TLVs padded to 4 bytes.
 * Decoding checks every length before reading; encoding goes through MessageWriter, which fills in lengths.
 */
import { DecodeError } from '../errors.js';
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

export function decodeHeader(buf: Buffer, offset: number, limit: number): MessageHeader {
  if (limit - offset < NLMSG_HDRLEN) throw new DecodeError(offset, `truncated nlmsghdr: ${limit - offset} bytes left, need 16`);
  const length = buf.readUInt32LE(offset);
  if (length < NLMSG_HDRLEN || offset + length > limit) throw new DecodeError(offset, `nlmsg_len ${length} outside 16..${limit - offset}`);
  return {
    length,
    type: buf.readUInt16LE(offset + 4),
    flags: buf.readUInt16LE(offset + 6),
    seq: buf.readUInt32LE(offset + 8),
    pid: buf.readUInt32LE(offset + 12),
  };
}

/**
 * Calls `visit(type, start, end)` for every attribute in buf[offset, end). The payload is buf[start, end).
 * Throws DecodeError on a length that runs past the container.
 */
export function forEachAttribute(
  buf: Buffer,
  offset: number,
  end: number,
  visit: (type: number, start: number, stop: number) => void,
): void {
  let at = offset;
  while (at + 4 <= end) {
    const len = buf.readUInt16LE(at);
    const type = buf.readUInt16LE(at + 2) & 0x3fff; // strip NLA_F_NESTED and NLA_F_NET_BYTEORDER
    if (len < 4 || at + len > end) throw new DecodeError(at, `attribute type ${type} length ${len} outside 4..${end - at}`);
    visit(type, at + 4, at + len);
    at += align4(len);
  }
  if (at < end && end - at !== 0 && at !== end) {
    // trailing bytes shorter than an attribute header: padding the kernel never sends
    if (end - at >= 4 || buf.subarray(at, end).some((b) => b !== 0))
      throw new DecodeError(at, `${end - at} trailing bytes after attributes`);
  }
}

/** A copy of buf[start, end). Small copies come from Node's shared pool, so 100k of them cost no 100k ArrayBuffers. */
export function copyBytes(buf: Buffer, start: number, end: number): Uint8Array {
  const out = Buffer.allocUnsafe(end - start);
  buf.copy(out, 0, start, end);
  return out;
}

function expectLength(type: string, start: number, end: number, want: number): void {
  if (end - start !== want) throw new DecodeError(start, `${type}: payload of ${end - start} bytes, expected ${want}`);
}

export function readU32Attr(buf: Buffer, name: string, start: number, end: number): number {
  expectLength(name, start, end, 4);
  return buf.readUInt32LE(start);
}

/** A NUL-terminated string attribute (IFLA_IFNAME, FRA_IIFNAME). */
export function readStringAttr(buf: Buffer, start: number, end: number): string {
  let stop = start;
  while (stop < end && buf[stop] !== 0) stop++;
  return buf.toString('utf8', start, stop);
}

export interface ErrorReply {
  error: number;
  /** NLMSGERR_ATTR_MSG from the extended ack, when present */
  message: string;
}

/** Decodes the payload of NLMSG_ERROR (struct nlmsgerr, then optional ext-ack TLVs). */
export function decodeError(buf: Buffer, header: MessageHeader, offset: number): ErrorReply {
  const body = offset + NLMSG_HDRLEN;
  const end = offset + header.length;
  if (header.type !== NLMSG_ERROR || end - body < 4) throw new DecodeError(body, 'truncated nlmsgerr');
  const error = buf.readInt32LE(body);
  let message = '';
  if (header.flags & NLM_F_ACK_TLVS && end - body >= 20) {
    const inner = buf.readUInt32LE(body + 4);
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
  private buf: Buffer;
  private at = NLMSG_HDRLEN;
  private readonly nests: number[] = [];

  constructor(type: number, flags: number, size = 256) {
    this.buf = Buffer.alloc(size);
    this.buf.writeUInt16LE(type, 4);
    this.buf.writeUInt16LE(flags, 6);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next);
    this.buf = next;
  }

  u8(v: number): this {
    this.room(1);
    this.buf.writeUInt8(v & 0xff, this.at++);
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16LE(v & 0xffff, this.at);
    this.at += 2;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.at);
    this.at += 4;
    return this;
  }
  i32(v: number): this {
    this.room(4);
    this.buf.writeInt32LE(v | 0, this.at);
    this.at += 4;
    return this;
  }

  /** An attribute with raw bytes (padded to 4). */
  attr(type: number, bytes: Uint8Array): this {
    const len = 4 + bytes.length;
    this.room(align4(len));
    this.buf.writeUInt16LE(len, this.at);
    this.buf.writeUInt16LE(type, this.at + 2);
    this.buf.set(bytes, this.at + 4);
    this.at += align4(len);
    return this;
  }
  attrU32(type: number, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.attr(type, b);
  }
  attrU8(type: number, v: number): this {
    return this.attr(type, Uint8Array.of(v));
  }
  attrString(type: number, s: string): this {
    return this.attr(type, Buffer.from(`${s}\0`, 'utf8'));
  }
  /** Opens a nested attribute (or a struct with trailing attributes, like rtnexthop); close with end(). */
  begin(type: number): this {
    this.room(4);
    this.nests.push(this.at);
    this.buf.writeUInt16LE(type, this.at + 2);
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
    this.buf.writeUInt16LE(this.at - start, start);
    const aligned = align4(this.at);
    this.room(aligned - this.at);
    this.at = aligned;
    return this;
  }

  /** Sets seq and length; returns the message bytes. */
  finish(seq: number): Buffer {
    this.buf.writeUInt32LE(this.at, 0);
    this.buf.writeUInt32LE(seq >>> 0, 8);
    return this.buf.subarray(0, this.at);
  }
}
