/**
 * A set of the 256 interrupt vectors as the local APIC keeps it: eight 32-bit words, word i holding
 * vectors 32i..32i+31, exactly as IRR, ISR and TMR read at offsets 100H/180H/200H + 10H*i (SDM Vol. 3A
 * 10.8.4 Figure 10-20). "Highest" is the highest vector number, which is the highest priority (10.8.3).
 */

export class VectorSet {
  readonly words = new Uint32Array(8);

  has(v: number): boolean {
    return (this.words[v >>> 5] & (1 << (v & 31))) !== 0;
  }

  set(v: number): void {
    this.words[v >>> 5] |= 1 << (v & 31);
  }

  clear(v: number): void {
    this.words[v >>> 5] &= ~(1 << (v & 31));
  }

  clearAll(): void {
    this.words.fill(0);
  }

  /** The highest vector in the set, or -1 if it is empty. */
  highest(): number {
    const w = this.words;
    for (let i = 7; i >= 0; i--) {
      const x = w[i];
      if (x !== 0) return (i << 5) | (31 - Math.clz32(x));
    }
    return -1;
  }
}
