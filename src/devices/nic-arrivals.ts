/**
 * The packet arrival process of the nic (nic.ts) and the Ethernet wire time of a frame: when the next
 * packet has been received in full, and how long it is. Times are ns offsets from the moment RX was
 * enabled; the nic converts each to ticks once, so rounding never accumulates.
 *
 * - constant: packet k (0, 1, ...) at (k + 1) * 1e9 / ppsRate.
 * - poisson: exponential gaps with mean 1e9 / ppsRate (seeded "arrivals" stream); the first after one gap.
 * - burst: burst b (0, 1, ...) starts at (b + 1) * burstPeriodUs; its burstSize packets arrive back to
 *   back at line rate: packet i at the burst start + the wire times of packets 0 .. i.
 * Sizes: uniform integers in [packetMinBytes, packetMaxBytes] from the "sizes" stream (no draw when
 * the two are equal). Sizes are frame bytes as the driver sees them: without preamble and FCS.
 *
 * Wire time (IEEE 802.3 clause 3/4 framing): the frame plus its 4-byte FCS, padded to the 64-byte
 * minimum frame, plus 8 bytes of preamble/SFD and the 12-byte inter-packet gap, at linkMbps:
 * (max(len + 4, 64) + 20) * 8 / linkMbps microseconds (84 bytes = 672 ns for a minimum frame at 1 Gb/s,
 * the familiar 1.488 Mpps).
 * The nic's options are checked against the line rate with the largest packet size: a constant or Poisson
 * ppsRate above linkMbps / wire bits of packetMaxBytes, or a burst longer than burstPeriodUs, is rejected.
 * Leaves out: collisions, pause frames, arrival processes with memory beyond these three.
 */
import type { Rng } from "../sim/rng.ts";

export type NicArrivalMode = "off" | "constant" | "burst" | "poisson";

export interface NicArrivalOptions {
  arrivals: NicArrivalMode;
  ppsRate: number;
  burstSize: number;
  burstPeriodUs: number;
  packetMinBytes: number;
  packetMaxBytes: number;
  linkMbps: number;
}

/** Where the process is, as plain numbers (part of the nic's state record). */
export interface NicArrivalState {
  /** Packets generated since RX was enabled. */
  arrIndex: number;
  /** ns offset of the packet just generated (poisson: running sum; burst: offset within the burst). */
  arrNs: number;
  arrBurstNs: number;
}

/** Ethernet wire time of a frame of `len` bytes (without FCS) at `linkMbps`, in ns. */
export function wireNs(len: number, linkMbps: number): number {
  return ((Math.max(len + 4, 64) + 20) * 8 * 1000) / linkMbps;
}

export class NicArrivalProcess {
  constructor(
    private readonly o: NicArrivalOptions,
    private readonly arrivalRng: Rng,
    private readonly sizeRng: Rng,
  ) {}

  restart(st: NicArrivalState): void {
    st.arrIndex = 0;
    st.arrNs = 0;
    st.arrBurstNs = 0;
  }

  /** Draw the next packet: returns its size and leaves its ns offset in st.arrNs. */
  next(st: NicArrivalState): number {
    const o = this.o;
    const size = o.packetMinBytes === o.packetMaxBytes ? o.packetMinBytes : this.sizeRng.int(o.packetMinBytes, o.packetMaxBytes);
    const k = st.arrIndex++;
    if (o.arrivals === "constant") {
      st.arrNs = ((k + 1) * 1e9) / o.ppsRate;
    } else if (o.arrivals === "poisson") {
      st.arrNs += this.arrivalRng.exponential(1e9 / o.ppsRate);
    } else {
      const i = k % o.burstSize;
      const b = (k - i) / o.burstSize;
      if (i === 0) st.arrBurstNs = 0;
      st.arrBurstNs += wireNs(size, o.linkMbps);
      st.arrNs = (b + 1) * o.burstPeriodUs * 1000 + st.arrBurstNs;
    }
    return size;
  }
}
