/**
 * An output buffer for big `show`/`export` outputs: pieces are written as latin1 bytes straight into one growing
 * Buffer instead of being concatenated into ever longer JS strings, which keeps the garbage collector quiet
 * on 10k-section configs.
 */
import { Buffer } from 'node:buffer';

declare module 'node:buffer' {
  interface Buffer {
    /** Node's native latin1 encoder behind buf.write(s, offset, 'latin1'), without its argument checks. */
    latin1Write(s: string, offset: number): number;
  }
}

export class ByteWriter {
  private buf = Buffer.allocUnsafe(1 << 16);
  private len = 0;

  put(s: string): void {
    if (this.len + s.length > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + s.length));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.len += this.buf.latin1Write(s, this.len);
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  text(): string {
    return this.buf.latin1Slice(0, this.len);
  }
}
