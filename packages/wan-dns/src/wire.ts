/**
 * The fast path's DNS wire codec (RFC 1035 §4.1): header, question and a bounds-checked walk over the records,
 * without building objects for them. Pure: no sockets, no clock. Every length is checked before it is read;
 * a malformed message gives a DecodeError naming the offset, never an exception from a read past the end.
 * The full decode (dns-packet) is used only where whole records matter (cache insertion).
 */

import { latin1, write16, write32 } from './bytes.js';
import { DecodeError } from './errors.js';

export const HEADER_BYTES = 12;
export const TYPE_OPT = 41; // RFC 6891
export const TYPE_SOA = 6;
export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;
export const FLAG_QR = 0x8000;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;
export const FLAG_RA = 0x0080;
export const FLAG_CD = 0x0010;
/** RFC 6891 §6.2.5: below 512 is treated as 512. DNS flag day 2020: 1232 avoids IP fragmentation. */
export const MIN_UDP_SIZE = 512;
export const MAX_UDP_SIZE = 1232;

/** What the fast path knows about a message after walking it. */
export interface MessageInfo {
  id: number;
  flags: number;
  opcode: number;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
  /** End of the question section (12 when qdcount is 0). */
  questionEnd: number;
  qtype: number;
  qclass: number;
  /** Offset of the OPT record's first byte (its root name), -1 when absent. */
  optOffset: number;
  /** The OPT record's UDP payload size (its CLASS field), 0 when there is no OPT. */
  udpSize: number;
  /** DNSSEC OK bit of the OPT record (RFC 3225). */
  dnssecOk: boolean;
  /** End of the last record; bytes after it are ignored. */
  end: number;
  /**
   * Each record's owner name as flat pairs `[start, end]` (end: where its TYPE begins), OPT included: what the
   * TTL and QNAME scans need, from the one walk (on QuickJS each walk over the names was a tenth of a miss).
   */
  names: number[];
}

/**
 * Skips a domain name starting at `offset`, following no pointer but accepting one as the name's end.
 * `allowPointer` false rejects compression (a question in a query has nothing before it to point at).
 * Returns the offset after the name.
 */
export function skipName(buf: Uint8Array, offset: number, end: number, allowPointer: boolean): number {
  let pos = offset;
  let total = 0;
  for (;;) {
    if (pos >= end) throw new DecodeError(pos, 'name runs past the end');
    const len = buf[pos] as number;
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) {
      if (!allowPointer) throw new DecodeError(pos, 'compression pointer in question');
      if (pos + 2 > end) throw new DecodeError(pos, 'pointer runs past the end');
      return pos + 2;
    }
    // RFC 6891 §5 retired extended label types (0x40, 0x80).
    if (len > 63) throw new DecodeError(pos, `bad label type 0x${len.toString(16)}`);
    total += len + 1;
    if (total > 254) throw new DecodeError(pos, 'name longer than 255 bytes');
    pos += len + 1;
  }
}

function u16(buf: Uint8Array, offset: number): number {
  return ((buf[offset] as number) << 8) | (buf[offset + 1] as number);
}

/**
 * Walks a whole message: header, one question at most, then every record's bounds. Throws DecodeError.
 * `isQuery` forbids compression in the question (queries) and more than one question.
 */
export function walkMessage(buf: Uint8Array, length: number, isQuery: boolean): MessageInfo {
  if (length < HEADER_BYTES) throw new DecodeError(0, `message of ${length} bytes is shorter than the 12-byte header`);
  const flags = u16(buf, 2);
  const info: MessageInfo = {
    id: u16(buf, 0),
    flags,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    qdcount: u16(buf, 4),
    ancount: u16(buf, 6),
    nscount: u16(buf, 8),
    arcount: u16(buf, 10),
    questionEnd: HEADER_BYTES,
    qtype: 0,
    qclass: 0,
    optOffset: -1,
    udpSize: 0,
    dnssecOk: false,
    end: HEADER_BYTES,
    names: [],
  };
  // One question is all anyone implements (RFC 9619 makes it a rule for QUERY).
  if (info.qdcount > 1) throw new DecodeError(4, `${info.qdcount} questions`);
  let pos = HEADER_BYTES;
  if (info.qdcount === 1) {
    pos = skipName(buf, pos, length, !isQuery);
    if (pos + 4 > length) throw new DecodeError(pos, 'question runs past the end');
    info.qtype = u16(buf, pos);
    info.qclass = u16(buf, pos + 2);
    pos += 4;
    info.questionEnd = pos;
  }
  const records = info.ancount + info.nscount + info.arcount;
  const firstAdditional = info.ancount + info.nscount;
  for (let i = 0; i < records; i++) {
    const start = pos;
    pos = skipName(buf, pos, length, true);
    info.names.push(start, pos);
    if (pos + 10 > length) throw new DecodeError(pos, 'record header runs past the end');
    const type = u16(buf, pos);
    const rdlength = u16(buf, pos + 8);
    if (type === TYPE_OPT) {
      // RFC 6891 §6.1.1: one OPT, in the additional section, with the root name.
      if (i < firstAdditional) throw new DecodeError(start, 'OPT record outside the additional section');
      if (info.optOffset >= 0) throw new DecodeError(start, 'second OPT record');
      if (pos !== start + 1) throw new DecodeError(start, 'OPT record with a non-root name');
      info.optOffset = start;
      info.udpSize = u16(buf, pos + 2);
      info.dnssecOk = ((buf[pos + 6] as number) & 0x80) !== 0;
    }
    pos += 10;
    if (pos + rdlength > length) throw new DecodeError(pos, 'record data runs past the end');
    pos += rdlength;
  }
  info.end = pos;
  return info;
}

/** The largest UDP answer a client can take: its EDNS0 size (at least 512), or 512 without OPT (RFC 1035 §4.2.1). */
export function clientUdpLimit(info: MessageInfo): number {
  if (info.optOffset < 0) return MIN_UDP_SIZE;
  return info.udpSize < MIN_UDP_SIZE ? MIN_UDP_SIZE : info.udpSize;
}

/** Rewrites, in place, an OPT record's UDP size to a sane value for the upstream query (512..1232). */
export function clampUdpSize(buf: Uint8Array, info: MessageInfo): void {
  if (info.optOffset < 0) return;
  const size = info.udpSize < MIN_UDP_SIZE ? MIN_UDP_SIZE : info.udpSize > MAX_UDP_SIZE ? MAX_UDP_SIZE : info.udpSize;
  if (size === info.udpSize) return;
  const at = info.optOffset + 3;
  buf[at] = size >> 8;
  buf[at + 1] = size & 0xff;
}

function lower(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}

/**
 * True when two messages carry the same question: name compared case-insensitively (RFC 4343), then type and
 * class. Both question sections must end at the given offsets.
 */
export function sameQuestion(a: Uint8Array, aEnd: number, b: Uint8Array, bEnd: number): boolean {
  if (aEnd !== bEnd) return false;
  // Servers echo the question as asked: compared whole in one engine call, the byte loop only when case differs
  // (on QuickJS the loop cost several times the strings).
  if (latin1(a, HEADER_BYTES, aEnd) === latin1(b, HEADER_BYTES, bEnd)) return true;
  for (let i = HEADER_BYTES; i < aEnd; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y && lower(x) !== lower(y)) return false;
  }
  return true;
}

const keyScratch = new Uint8Array(260 + 8);
/** The Latin-1 letters toLowerCase folds besides ASCII's (À-Þ but ×): DNS compares those bytes as they are. */
const foldedBeyondAscii = /[\xc0-\xd6\xd8-\xde]/;

/** A cache key: the question lowercased, plus the DO and CD bits, which change what an upstream returns. */
export function cacheKey(buf: Uint8Array, info: MessageInfo): string {
  const bits = String.fromCharCode((info.dnssecOk ? 1 : 0) | (info.flags & FLAG_CD ? 2 : 0));
  const question = latin1(buf, HEADER_BYTES, info.questionEnd);
  // toLowerCase is one call into the engine; RFC 4343 folds ASCII only, so a name with a byte it would fold
  // beyond ASCII is lowered a byte at a time (a byte loop cost most of a query's time on QuickJS).
  if (!foldedBeyondAscii.test(question)) return question.toLowerCase() + bits;
  const n = info.questionEnd - HEADER_BYTES;
  for (let i = 0; i < n; i++) keyScratch[i] = lower(buf[HEADER_BYTES + i] as number);
  return latin1(keyScratch, 0, n) + bits;
}

/**
 * Builds an error answer to `query`: same ID, opcode and RD, QR set, the given RCODE, and the question echoed
 * when it was parsed (`questionEnd` > 12), else no question (FORMERR for an unreadable one).
 */
export function errorAnswer(query: Uint8Array, questionEnd: number, rcode: number, truncated = false): Uint8Array {
  const out = new Uint8Array(questionEnd);
  out.set(query.subarray(0, questionEnd));
  const flags = u16(query, 2);
  const answerFlags = FLAG_QR | (flags & 0x7900) | FLAG_RA | (truncated ? FLAG_TC : 0) | (flags & FLAG_CD) | rcode;
  write16(out, answerFlags, 2);
  write16(out, questionEnd > HEADER_BYTES ? 1 : 0, 4);
  write32(out, 0, 6);
  write16(out, 0, 10);
  return out;
}

/** Offsets of every TTL field in a walked message, OPT excluded (its TTL field holds flags, RFC 6891 §6.1.3). */
export function ttlOffsets(info: MessageInfo): number[] {
  const offsets: number[] = [];
  const names = info.names;
  for (let i = 0; i < names.length; i += 2) if (names[i] !== info.optOffset) offsets.push((names[i + 1] as number) + 4);
  return offsets;
}

/** Compression pointers followed per name at most; a name of 255 bytes has at most 127 labels. */
const MAX_POINTER_HOPS = 127;

/**
 * Where a walked answer spells its question's name outside the question: for each owner name (any section)
 * that equals QNAME case-insensitively, the runs of its label bytes that lie after the question, as flat
 * triples `[at, questionAt, length]` (`questionAt`: where the same bytes sit in the question). Pointers into
 * the question need nothing (rewriting the question rewrites them); only inline labels are listed. A name that
 * does not equal QNAME, or whose pointers do not point backwards, is left out. Empty when there is no question.
 */
export function qnameCopies(buf: Uint8Array, info: MessageInfo): number[] {
  const out: number[] = [];
  if (info.qdcount !== 1) return out;
  const names = info.names;
  for (let i = 0; i < names.length; i += 2) if (names[i] !== info.optOffset) matchQname(buf, names[i] as number, info, out);
  return out;
}

/** Appends the inline runs of the name at `at` to `out` when it equals the question's name; else appends nothing. */
function matchQname(buf: Uint8Array, at: number, info: MessageInfo, out: number[]): void {
  const mark = out.length;
  let pos = at;
  let q = HEADER_BYTES;
  let hops = 0;
  for (;;) {
    if (pos >= info.end) break;
    const len = buf[pos] as number;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= info.end || ++hops > MAX_POINTER_HOPS) break;
      const target = ((len & 0x3f) << 8) | (buf[pos + 1] as number);
      // Only backward pointers: no loops, and nothing past what was already walked.
      if (target >= pos) break;
      // The rest of the name is the question's own suffix at the same place: equal, and echoed with it.
      if (target === q) return;
      pos = target;
      continue;
    }
    if (len !== buf[q]) break;
    if (len === 0) return;
    if (pos + 1 + len > info.end) break;
    let same = true;
    for (let k = 1; k <= len && same; k++) same = lower(buf[pos + k] as number) === lower(buf[q + k] as number);
    if (!same) break;
    if (pos >= info.questionEnd) {
      const last = out.length - 3;
      // Consecutive labels are one run (one loop on a hit instead of one per label).
      if (
        last >= mark &&
        (out[last] as number) + (out[last + 2] as number) === pos &&
        (out[last + 1] as number) + (out[last + 2] as number) === q
      )
        out[last + 2] = (out[last + 2] as number) + len + 1;
      else out.push(pos, q, len + 1);
    }
    pos += len + 1;
    q += len + 1;
  }
  out.length = mark;
}

/**
 * Writes the client's spelling of its question into an answer to it (DNS 0x20: a resolver that randomised the
 * case expects it echoed): the question section from `query` (same length: the questions are equal but for
 * case), then the `copies` found by qnameCopies. `out` is changed in place.
 */
export function echoQuestion(out: Uint8Array, copies: readonly number[], query: Uint8Array, questionEnd: number): void {
  // The question in one copy (on QuickJS a byte loop cost several times a view and set()); the copies, usually
  // none (answers point at the question), as byte loops: per short run a view costs more than it saves on Node.
  out.set(query.subarray(HEADER_BYTES, questionEnd), HEADER_BYTES);
  for (let i = 0; i < copies.length; i += 3) {
    const at = copies[i] as number;
    const from = copies[i + 1] as number;
    const n = copies[i + 2] as number;
    for (let k = 0; k < n; k++) out[at + k] = query[from + k] as number;
  }
}
