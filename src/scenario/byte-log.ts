/**
 * A growable byte log: collects what a device emits (debugcon output) one byte at a time without
 * allocating per byte, and hands out what was added since a mark so the caller can stream it.
 */
export class ByteLog {
  private buf = new Uint8Array(256);
  length = 0;

  push(b: number): void {
    if (this.length === this.buf.length) {
      const n = new Uint8Array(this.buf.length * 2);
      n.set(this.buf);
      this.buf = n;
    }
    this.buf[this.length++] = b;
  }

  /** Forget everything logged so far (after it was streamed elsewhere); `length` restarts at 0. */
  clear(): void {
    this.length = 0;
  }

  /** A copy of the bytes from `from` to the end. */
  slice(from = 0): Uint8Array {
    return this.buf.slice(from, this.length);
  }
}
