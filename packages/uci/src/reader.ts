/**
 * libuci's line reader and tokenizer (file.c uci_getln, parse_str, next_arg), reproduced on a byte buffer so
 * that quoting, escapes, multi-line values, comments, ';' separators and error positions behave exactly as
 * OpenWrt's. libuci reads with fgets into a buffer that starts at 32 bytes and doubles; positions it reports
 * are offsets in that buffer, and a NUL byte in the input cuts the rest of its fgets chunk. Both matter for
 * byte-identical errors, so the buffer is modelled, not just the text.
 */

import { latin1Text } from './bytes.js';

/** Thrown inside the parser; the caller turns it into a UciParseError with line and byte. */
export class ParseFail extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** C isspace in the "C" locale. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * A byte source read like a C FILE: the whole input at once, or pulled on demand (stdin in `uci batch`, so
 * commands run as their lines arrive). Several readers can take turns on one stream, as libuci's parse
 * contexts share the CLI's input FILE.
 */
export class ByteStream {
  data: Uint8Array;
  fpos = 0;
  /** C feof: set when a read hits the end. */
  eof = false;
  private ended: boolean;

  constructor(
    data: Uint8Array,
    private readonly pull?: () => Uint8Array | null,
  ) {
    this.data = data;
    this.ended = pull === undefined;
  }

  /** Make sure a '\n' at or after `from` is available, or the input ended. Returns the newline's index or -1. */
  findNewline(from: number): number {
    for (;;) {
      const i = this.data.indexOf(10, from);
      if (i >= 0 || this.ended || !this.pull) return i;
      const more = this.pull();
      if (more === null || more.length === 0) {
        this.ended = true;
        return -1;
      }
      const next = new Uint8Array(this.data.length - this.fpos + more.length);
      next.set(this.data.subarray(this.fpos));
      next.set(more, this.data.length - this.fpos);
      from -= this.fpos;
      this.data = next;
      this.fpos = 0;
    }
  }
}

export class LineReader {
  buf: Uint8Array = new Uint8Array(0);
  /** libuci pctx->bufsz: 0 until the first read. */
  bufsz = 0;
  pos = 0;
  /** Newline-terminated lines read so far (libuci pctx->line). */
  line = 0;
  /** libuci pctx->buf_filled. */
  filled = 0;
  /** The position of the last parse error (libuci pctx->byte). */
  byte = 0;
  reason: string | null = null;
  readonly stream: ByteStream;

  constructor(src: Uint8Array | ByteStream) {
    this.stream = src instanceof ByteStream ? src : new ByteStream(src);
  }

  /** The stream's end-of-file indicator (C feof). */
  get eof(): boolean {
    return this.stream.eof;
  }

  private grow(size: number): void {
    // A new Uint8Array is zeroed: bytes past what libuci has read are never looked at before being written anyway.
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, Math.min(this.buf.length, size)));
    this.buf = next;
    this.bufsz = size;
  }

  at(i: number): number {
    return this.buf[i] ?? 0;
  }

  cur(): number {
    return this.buf[this.pos] ?? 0;
  }

  set(i: number, c: number): void {
    this.buf[i] = c;
  }

  /** uci_getln: read one more line into the buffer at `offset`. */
  getln(offset: number): void {
    if (this.bufsz === 0) this.grow(32);
    if (offset >= this.bufsz - 1) this.grow(this.bufsz * 2);
    let ofs = offset;
    for (;;) {
      this.buf[ofs] = 0;
      // fgets(p, bufsz - ofs): at most bufsz - ofs - 1 bytes, stopping after '\n'.
      const st = this.stream;
      let end = st.findNewline(st.fpos);
      const src = st.data;
      if (st.fpos >= src.length) {
        st.eof = true;
        return;
      }
      const max = this.bufsz - ofs - 1;
      let hitEof = false;
      if (end < 0) {
        end = src.length;
        hitEof = true;
      } else {
        end += 1;
      }
      if (end - st.fpos >= max) {
        end = st.fpos + max;
        hitEof = false;
      }
      const n = end - st.fpos;
      // A plain loop: lines are short, and subarray/set allocate a view per call (GC pressure).
      const buf = this.buf;
      const from = st.fpos;
      for (let k = 0; k < n; k++) buf[ofs + k] = src[from + k] as number;
      st.fpos = end;
      if (hitEof) st.eof = true;
      this.buf[ofs + n] = 0;
      if (this.buf[ofs] === 0) return;
      // strlen: a NUL byte ends the C string early.
      ofs = this.buf.indexOf(0, ofs);
      this.filled = ofs;
      if (this.buf[ofs - 1] === 10) {
        this.line++;
        return;
      }
      this.grow(this.bufsz * 2);
    }
  }

  /** A C string starting at `i`, as a byte string. */
  str(i: number): string {
    let end = this.buf.indexOf(0, i);
    if (end < 0) end = this.buf.length;
    return latin1Text(this.buf, i, end);
  }

  /** strlen from `i`. */
  strlen(i: number): number {
    const end = this.buf.indexOf(0, i);
    return (end < 0 ? this.buf.length : end) - i;
  }

  error(reason: string): never {
    this.reason = reason;
    this.byte = this.pos;
    throw new ParseFail(reason);
  }

  skipWhitespace(): void {
    while (this.cur() !== 0 && isSpace(this.cur())) this.pos++;
  }

  /** parse_backslash: true when the escaped byte is to be taken; a backslash before the line end joins lines. */
  private backslash(): boolean {
    this.pos++;
    const c = this.cur();
    if (c === 0 || c === 10 || (c === 13 && this.at(this.pos + 1) === 10 && this.at(this.pos + 2) === 0)) {
      this.getln(this.pos);
      return false;
    }
    return true;
  }

  /** Where parse_str writes the unquoted word (libuci's target pointer; always at or behind pos). */
  private target = 0;

  private addc(): void {
    this.buf[this.target] = this.buf[this.pos] ?? 0;
    this.target++;
    this.pos++;
  }

  /** A quoted string (parse_str's quote loops): '...' takes every byte as it is, "..." also backslash escapes. */
  private quoted(quote: 34 | 39): void {
    this.pos++;
    // Fast path: the closing quote is on this line (the usual case), with no backslash before it in "...": move the
    // bytes in one native copy.
    const close = this.buf.indexOf(quote, this.pos);
    if (close >= 0 && close < this.filled && this.buf.indexOf(0, this.pos) > close) {
      const bs = quote === 34 ? this.buf.indexOf(92, this.pos) : -1;
      if (bs < 0 || bs > close) {
        this.buf.copyWithin(this.target, this.pos, close);
        this.target += close - this.pos;
        this.pos = close + 1;
        return;
      }
    }
    for (;;) {
      const c = this.cur();
      if (c === quote) {
        this.pos++;
        return;
      }
      if (c === 0) {
        this.getln(this.pos);
        if (this.cur() === 0) this.error(`EOF with unterminated ${quote === 34 ? '"' : "'"}`);
        continue;
      }
      if (c === 92 && quote === 34 && !this.backslash()) continue;
      this.addc();
    }
  }

  /** parse_str: one word, with quotes concatenated ('a'"b"c), '#' starting a comment and ';' ending a command. */
  private parseStr(): void {
    let next = true;
    loop: do {
      const c = this.cur();
      switch (c) {
        case 39:
          this.quoted(39);
          break;
        case 34:
          this.quoted(34);
          break;
        case 35:
          this.buf[this.pos] = 0;
          break loop;
        case 0:
          break loop;
        case 59:
          next = false;
          break loop;
        case 92:
          if (!this.backslash()) continue;
          this.addc();
          break;
        default:
          this.addc();
      }
    } while (this.cur() !== 0 && !isSpace(this.cur()));
    if (this.cur() !== 0 && next) this.pos++;
    this.buf[this.target] = 0;
  }

  /** next_arg: the next word's start offset; `validate` checks it (names) and throws libuci's messages. */
  nextArg(required: boolean, validate?: (s: string) => boolean): number {
    this.skipWhitespace();
    const val = this.pos;
    if (this.cur() === 59) {
      this.buf[this.pos] = 0;
      this.pos++;
    } else {
      this.target = val;
      this.parseStr();
    }
    if (this.at(val) === 0) {
      if (required) this.error('insufficient arguments');
      return val;
    }
    if (validate && !validate(this.str(val))) this.error('invalid character in name field');
    return val;
  }
}
