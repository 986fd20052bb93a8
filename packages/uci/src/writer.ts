/**
 * An output buffer for big `show`/`export` outputs: pieces are written as latin1 bytes straight into one growing
 * Uint8Array instead of being concatenated into ever longer JS strings, which keeps the garbage collector quiet
 * on 10k-section configs.
 */
import { latin1Text, putLatin1 } from './bytes.js';

export class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private len = 0;

  put(s: string): void {
    if (this.len + s.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + s.length));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.len += putLatin1(this.buf, s, this.len);
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  text(): string {
    return latin1Text(this.buf, 0, this.len);
  }
}
