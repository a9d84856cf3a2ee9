/**
 * nic: a network card with RX and TX descriptor rings in guest memory (issue 4 "Devices",
 * shared/DESIGN.md §3). The ring protocol is the e1000's (Intel 8254x SDM §3.2.6 receive ring, §3.4
 * transmit ring: base/length/head/tail registers, the device owns head .. tail - 1, DD write-back);
 * the register offsets and descriptor layout are our own, so this header is the card's datasheet.
 * Packets arrive from a modelled process (nic-arrivals.ts) with a timestamp in their first bytes
 * (nic-packet.ts). Legacy interrupts follow the PCI level-triggered INTx convention (PCI Local Bus
 * Spec 3.0 §2.2.6); MSI messages are the address/data pairs of Intel SDM Vol. 3A 10.11 (11.11 in newer
 * editions), delivered through the board's MsiSink.
 *
 * Registers: 32 bits at 4-byte offsets, the same layout on the port bus and in MMIO (registerBytes = 128).
 * Reads of 1 or 2 bytes return those bytes of the register; writes narrower than 32 bits are ignored.
 * Unlisted offsets read 0 and ignore writes.
 *
 * | offset | name        | R/W   | meaning                                                                 |
 * |--------|-------------|-------|-------------------------------------------------------------------------|
 * | 0x00   | ID          | R     | 0x0003_5654: PCI device id << 16 | vendor id                             |
 * | 0x04   | CTRL        | R/W   | bit 0 RX_ENABLE: 0->1 starts the arrival process (phase 0), 1->0 stops  |
 * |        |             |       | it; bit 1 TX_ENABLE: the transmitter works on TX descriptors            |
 * | 0x08   | INT_STATUS  | R/W1C | bit 0 RX (a packet was stored), bit 1 TX (a TX descriptor is done),     |
 * |        |             |       | bit 2 RX_DROP (a packet was dropped: ring full or too long), bit 3      |
 * |        |             |       | DMA_ERROR (a transfer was refused)                                      |
 * | 0x0C   | INT_ENABLE  | R/W   | bits as INT_STATUS                                                      |
 * | 0x10   | ITR_NS      | R/W   | interrupt moderation: at least this many ns between two interrupts      |
 * |        |             |       | (0 = off); a cause arriving sooner is signalled at the interval's end   |
 * | 0x14   | RX_BASE     | R/W   | physical address of the RX ring (16-byte aligned: bits 3..0 read 0)     |
 * | 0x18   | RX_SIZE     | R/W   | descriptors in the RX ring (0 .. 65536). Writing RX_BASE or RX_SIZE     |
 * |        |             |       | sets RX_HEAD and RX_TAIL to 0                                           |
 * | 0x1C   | RX_HEAD     | R     | next descriptor the card fills                                          |
 * | 0x20   | RX_TAIL     | R/W   | one past the last descriptor given to the card (writes >= RX_SIZE are   |
 * |        |             |       | ignored). The card owns RX_HEAD .. RX_TAIL - 1; HEAD = TAIL: ring full  |
 * | 0x24   | RX_BUF_SIZE | R/W   | bytes of every RX buffer (0 .. 65535); a longer packet is dropped       |
 * | 0x28   | TX_BASE     | R/W   | physical address of the TX ring (16-byte aligned)                       |
 * | 0x2C   | TX_SIZE     | R/W   | descriptors in the TX ring; writing TX_BASE/TX_SIZE zeroes head and tail|
 * | 0x30   | TX_HEAD     | R     | next descriptor the card sends                                          |
 * | 0x34   | TX_TAIL     | R/W   | one past the last descriptor to send; writing it starts the transmitter |
 * | 0x38   | RX_DROPPED  | R     | packets dropped (ring full + too long + DMA refused)                    |
 * | 0x3C   | RX_PACKETS  | R     | packets stored                                                          |
 * | 0x40   | TX_PACKETS  | R     | packets sent                                                            |
 * | 0x44   | NOW_LO      | R     | the card's ns time now, low 32 bits; reading it latches NOW_HI          |
 * | 0x48   | NOW_HI      | R     | high 32 bits latched by the last NOW_LO read                            |
 *
 * Descriptor (RX and TX), 16 bytes little-endian:
 *
 * | offset | field | RX                                              | TX                                 |
 * |--------|-------|-------------------------------------------------|------------------------------------|
 * | +0     | ADDR  | buffer address (driver)                         | packet address (driver)            |
 * | +4     | -     | reserved (an e1000's address high half)         | reserved                           |
 * | +8     | LEN   | u16: packet length (card)                       | u16: packet length (driver, >= 1)  |
 * | +10    | FLAGS | u16: bit 0 DD, bit 1 EOP (card)                 | u16: bit 0 DD, bit 2 ERR (card)    |
 * | +12    | SEQ   | u32: the packet's sequence number (card)        | not used                           |
 *
 * RX: at each arrival (one event per packet) the packet gets the next sequence number; if it is longer
 * than RX_BUF_SIZE, or RX_HEAD = RX_TAIL (no descriptor), or RX_SIZE = 0, it is dropped and counted
 * (RX_DROP). Otherwise the card reads the descriptor at RX_HEAD, writes the packet to ADDR, writes
 * LEN/FLAGS = DD | EOP/SEQ back (bytes +8..+15), advances RX_HEAD and sets RX. A refused transfer drops
 * the packet, counts it and sets DMA_ERROR; RX_HEAD stays.
 * TX: while TX_ENABLE and TX_HEAD != TX_TAIL the card reads the descriptor at TX_HEAD and the packet,
 * keeps the wire busy for wireNs(LEN) (nic-arrivals.ts), then writes FLAGS = DD, advances TX_HEAD, sets
 * TX and starts the next descriptor (one event per packet). LEN = 0 or a refused read finishes the
 * descriptor at once with FLAGS = DD | ERR (and DMA_ERROR for a refused read; a descriptor that cannot be
 * read is skipped without write-back).
 *
 * Interrupts: pending = INT_STATUS & INT_ENABLE. Without MSI the line is asserted while pending != 0.
 * With MSI configured by the board (configureMsi: the guest enabled the MSI capability) one message is
 * sent each time pending goes from 0 to non-0; the driver clears INT_STATUS to re-arm. With ITR_NS > 0
 * an interrupt (assertion or message) comes at least ITR_NS after the previous one.
 * Leaves out: the e1000's register set and 64-bit addresses, multi-descriptor packets, checksums
 * offload, a MAC address and filtering, link state changes, receive-side wire time.
 */
import { Reg32Device } from "./reg32-device.ts";
import { nsToTicks, ticksToNs, type Clock } from "../sim/clock.ts";
import type { SimEvent, Tick } from "../sim/event-queue.ts";
import type { Rng } from "../sim/rng.ts";
import { ClockDomain } from "./clock-domain.ts";
import type { DmaPort } from "./dma.ts";
import { UNCONNECTED, type IrqLine, type MsiSink } from "./irq-line.ts";
import { NicArrivalProcess, wireNs, type NicArrivalMode, type NicArrivalState } from "./nic-arrivals.ts";
import { buildPacket, NIC_MIN_PACKET_BYTES } from "./nic-packet.ts";

export const NicReg = {
  ID: 0x00,
  CTRL: 0x04,
  INT_STATUS: 0x08,
  INT_ENABLE: 0x0c,
  ITR_NS: 0x10,
  RX_BASE: 0x14,
  RX_SIZE: 0x18,
  RX_HEAD: 0x1c,
  RX_TAIL: 0x20,
  RX_BUF_SIZE: 0x24,
  TX_BASE: 0x28,
  TX_SIZE: 0x2c,
  TX_HEAD: 0x30,
  TX_TAIL: 0x34,
  RX_DROPPED: 0x38,
  RX_PACKETS: 0x3c,
  TX_PACKETS: 0x40,
  NOW_LO: 0x44,
  NOW_HI: 0x48,
} as const;

export const NIC_DESCRIPTOR_BYTES = 16;
export const NicCtrl = { RX_ENABLE: 1, TX_ENABLE: 2 } as const;
export const NicInt = { RX: 1, TX: 2, RX_DROP: 4, DMA_ERROR: 8 } as const;
export const NicDescFlag = { DD: 1, EOP: 2, ERR: 4 } as const;

const RX_ENABLE = 1, TX_ENABLE = 2;
const INT_RX = 1, INT_TX = 2, INT_RX_DROP = 4, INT_DMA_ERROR = 8, INT_ALL = 15;
const DD = 1, EOP = 2, ERR = 4;
const MAX_RING = 65536;

export const descriptor = {
  kind: "nic",
  description: "network card: RX/TX descriptor rings by DMA, constant/burst/Poisson arrivals, drops, INTx or MSI, moderation",
  registerBytes: 128,
  /** Vendor 0x5654 ("VT"): this project's own id, not a PCI-SIG assignment. Class 02h/00h: Ethernet. */
  pci: { vendorId: 0x5654, deviceId: 0x0003, classCode: 0x020000 },
} as const;

const ID_VALUE = (descriptor.pci.deviceId << 16) | descriptor.pci.vendorId;

export interface NicOptions {
  /** Arrival process (nic-arrivals.ts); "off": no packets arrive. */
  arrivals: NicArrivalMode;
  /** Packets per second (constant, poisson). */
  ppsRate: number;
  /** Packets per burst, and the time between burst starts in microseconds (burst). */
  burstSize: number;
  burstPeriodUs: number;
  /** Packet sizes in bytes, uniform in [min, max] (fixed when equal). */
  packetMinBytes: number;
  packetMaxBytes: number;
  /** Link speed, megabits per second: TX wire time and burst spacing. */
  linkMbps: number;
  /** Initial ITR_NS, in microseconds (0 = no moderation). */
  itrUs: number;
  /** Initial RX_BUF_SIZE, bytes. */
  rxBufBytes: number;
}

export const NIC_DEFAULTS: Readonly<NicOptions> = {
  arrivals: "off",
  ppsRate: 10000,
  burstSize: 8,
  burstPeriodUs: 1000,
  packetMinBytes: 64,
  packetMaxBytes: 64,
  linkMbps: 1000,
  itrUs: 0,
  rxBufBytes: 2048,
};

function bad(name: string, why: string, v: unknown): never {
  throw new RangeError(`nic: option ${name} ${why} (got ${String(v)})`);
}

/** Defaults filled in and every option checked; a RangeError names the bad option. */
export function resolveNicOptions(o: Partial<NicOptions> = {}): NicOptions {
  const r = { ...NIC_DEFAULTS, ...o };
  if (!["off", "constant", "burst", "poisson"].includes(r.arrivals)) {
    bad("arrivals", "must be off, constant, burst or poisson", r.arrivals);
  }
  const positive = (name: keyof NicOptions) => {
    const v = r[name] as number;
    if (!(Number.isFinite(v) && v > 0)) bad(name, "must be a positive number", v);
  };
  positive("linkMbps");
  positive("ppsRate");
  positive("burstPeriodUs");
  if (!(Number.isFinite(r.itrUs) && r.itrUs >= 0)) bad("itrUs", "must be a non-negative number of microseconds", r.itrUs);
  if (!(Number.isInteger(r.burstSize) && r.burstSize >= 1)) bad("burstSize", "must be a positive integer", r.burstSize);
  if (!(Number.isInteger(r.packetMinBytes) && r.packetMinBytes >= NIC_MIN_PACKET_BYTES && r.packetMinBytes <= 65535)) {
    bad("packetMinBytes", `must be an integer in ${NIC_MIN_PACKET_BYTES} .. 65535`, r.packetMinBytes);
  }
  if (!(Number.isInteger(r.packetMaxBytes) && r.packetMaxBytes >= r.packetMinBytes && r.packetMaxBytes <= 65535)) {
    bad("packetMaxBytes", `must be an integer in packetMinBytes (${r.packetMinBytes}) .. 65535`, r.packetMaxBytes);
  }
  if (!(Number.isInteger(r.rxBufBytes) && r.rxBufBytes >= 0 && r.rxBufBytes <= 65535)) {
    bad("rxBufBytes", "must be an integer in 0 .. 65535", r.rxBufBytes);
  }
  const maxWireNs = wireNs(r.packetMaxBytes, r.linkMbps);
  if ((r.arrivals === "constant" || r.arrivals === "poisson") && 1e9 / r.ppsRate < maxWireNs) {
    bad("ppsRate", `exceeds the line rate for ${r.packetMaxBytes}-byte packets at ${r.linkMbps} Mb/s (${Math.floor(1e9 / maxWireNs)} pps)`, r.ppsRate);
  }
  if (r.arrivals === "burst" && r.burstSize * maxWireNs > r.burstPeriodUs * 1000) {
    bad("burstPeriodUs", `is shorter than a burst of ${r.burstSize} packets at line rate (${(r.burstSize * maxWireNs) / 1000} us)`, r.burstPeriodUs);
  }
  return r;
}

export interface NicDeps {
  clock: Clock;
  dma: DmaPort;
  irq?: IrqLine;
  /** Where MSI messages go once the board calls configureMsi. */
  msi?: MsiSink;
  /** The card's stream; it forks "arrivals" and "sizes" from it. */
  rng: Rng;
  /** Receives each transmitted packet when its wire time ends (a link partner, a probe). */
  txSink?: (packet: Uint8Array, tick: Tick) => void;
  name?: string;
}

/** Counters, as plain data. */
export interface NicStats {
  arrivals: number;
  rxPackets: number;
  rxBytes: number;
  /** Dropped because no RX descriptor was free. */
  rxDropped: number;
  rxOversize: number;
  rxDmaDropped: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
  dmaErrors: number;
  interrupts: number;
}

export interface NicState extends NicArrivalState {
  ctrl: number;
  intStatus: number;
  intEnable: number;
  itrNs: number;
  rxBase: number;
  rxSize: number;
  rxHead: number;
  rxTail: number;
  rxBufSize: number;
  txBase: number;
  txSize: number;
  txHead: number;
  txTail: number;
  nowHiLatch: number;
  /** RX: tick RX was enabled; sequence number of the last arrival. */
  rxStartTick: number;
  rxSeq: number;
  /** TX: 1 while a packet is on the wire; its descriptor address and length. */
  txBusy: number;
  txDescAddr: number;
  txLen: number;
  /** Interrupt output: 1 while signalled (line asserted / message sent) and not re-armed. */
  irqSignalled: number;
  lastIrqTick: number;
  msiEnabled: number;
  msiAddress: number;
  msiData: number;
  stats: NicStats;
}

export type NicReport = NicStats;

export class Nic extends Reg32Device {
  readonly name: string;
  readonly options: NicOptions;
  readonly state: NicState;
  private readonly clock: Clock;
  private readonly nsClock: ClockDomain | null;
  private readonly dma: DmaPort;
  private readonly irq: IrqLine;
  private readonly msi: MsiSink | null;
  private readonly txSink: ((packet: Uint8Array, tick: Tick) => void) | null;
  private readonly process: NicArrivalProcess;
  private nextArrival: SimEvent | null = null;
  private nextSize = 0;
  private moderation: SimEvent | null = null;
  private txPacket: Uint8Array | null = null;
  private readonly desc = new Uint8Array(NIC_DESCRIPTOR_BYTES);
  /** The packet being received (a DMA write copies it, so one buffer serves every packet). */
  private readonly rxScratch = new Uint8Array(65535);
  private readonly descView = new DataView(this.desc.buffer);
  private readonly onArrivalFn = (tick: Tick): void => this.onArrival(tick);
  private readonly onTxDoneFn = (tick: Tick): void => this.onTxDone(tick);
  private readonly onModerationFn = (): void => {
    this.moderation = null;
    this.updateIrq();
  };

  constructor(deps: NicDeps, options: Partial<NicOptions> = {}) {
    super();
    this.options = resolveNicOptions(options);
    this.name = deps.name ?? "nic";
    this.clock = deps.clock;
    this.nsClock = Number.isSafeInteger(deps.clock.hz) && deps.clock.hz > 0 ? new ClockDomain(deps.clock.hz, 1e9) : null;
    this.dma = deps.dma;
    this.irq = deps.irq ?? UNCONNECTED;
    this.msi = deps.msi ?? null;
    this.txSink = deps.txSink ?? null;
    this.process = new NicArrivalProcess(this.options, deps.rng.fork("arrivals"), deps.rng.fork("sizes"));
    this.state = {
      ctrl: 0, intStatus: 0, intEnable: 0, itrNs: Math.round(this.options.itrUs * 1000), rxBase: 0, rxSize: 0,
      rxHead: 0, rxTail: 0, rxBufSize: this.options.rxBufBytes, txBase: 0, txSize: 0, txHead: 0, txTail: 0,
      nowHiLatch: 0, rxStartTick: 0, rxSeq: 0, txBusy: 0, txDescAddr: 0, txLen: 0, irqSignalled: 0,
      lastIrqTick: 0, msiEnabled: 0, msiAddress: 0, msiData: 0, arrIndex: 0, arrNs: 0, arrBurstNs: 0,
      stats: {
        arrivals: 0, rxPackets: 0, rxBytes: 0, rxDropped: 0, rxOversize: 0, rxDmaDropped: 0, txPackets: 0,
        txBytes: 0, txErrors: 0, dmaErrors: 0, interrupts: 0,
      },
    };
  }

  /** The board: the guest enabled MSI with this address/data (SDM Vol. 3A 10.11 format). */
  configureMsi(address: number, data: number): void {
    if (this.msi === null) throw new Error(`${this.name}: configureMsi without an MsiSink`);
    const s = this.state;
    if (s.irqSignalled && !s.msiEnabled) this.irq.set(false);
    s.msiEnabled = 1;
    s.msiAddress = address >>> 0;
    s.msiData = data >>> 0;
    s.irqSignalled = 0;
    this.updateIrq();
  }

  /** The board: MSI disabled again; the card goes back to its INTx line. */
  disableMsi(): void {
    const s = this.state;
    s.msiEnabled = 0;
    s.irqSignalled = 0;
    this.updateIrq();
  }

  report(): NicReport {
    return { ...this.state.stats };
  }

  /** The device's ns time at `tick`: floor(tick * 1e9 / hz), exact (ClockDomain) for an integer hz. */
  private nsAt(tick: Tick): number {
    return this.nsClock !== null ? this.nsClock.countAt(tick) : Math.floor(ticksToNs(tick, this.clock.hz));
  }

  protected readReg(off: number): number {
    const s = this.state;
    switch (off) {
      case NicReg.ID: return ID_VALUE;
      case NicReg.CTRL: return s.ctrl;
      case NicReg.INT_STATUS: return s.intStatus;
      case NicReg.INT_ENABLE: return s.intEnable;
      case NicReg.ITR_NS: return s.itrNs >>> 0;
      case NicReg.RX_BASE: return s.rxBase;
      case NicReg.RX_SIZE: return s.rxSize;
      case NicReg.RX_HEAD: return s.rxHead;
      case NicReg.RX_TAIL: return s.rxTail;
      case NicReg.RX_BUF_SIZE: return s.rxBufSize;
      case NicReg.TX_BASE: return s.txBase;
      case NicReg.TX_SIZE: return s.txSize;
      case NicReg.TX_HEAD: return s.txHead;
      case NicReg.TX_TAIL: return s.txTail;
      case NicReg.RX_DROPPED: return (s.stats.rxDropped + s.stats.rxOversize + s.stats.rxDmaDropped) >>> 0;
      case NicReg.RX_PACKETS: return s.stats.rxPackets >>> 0;
      case NicReg.TX_PACKETS: return s.stats.txPackets >>> 0;
      case NicReg.NOW_LO: {
        const ns = this.nsAt(this.clock.now());
        s.nowHiLatch = Math.floor(ns / 4294967296) >>> 0;
        return ns >>> 0;
      }
      case NicReg.NOW_HI: return s.nowHiLatch;
      default: return 0;
    }
  }

  protected writeReg(off: number, v: number): void {
    const s = this.state;
    switch (off) {
      case NicReg.CTRL: {
        const was = s.ctrl;
        s.ctrl = v & (RX_ENABLE | TX_ENABLE);
        if (!(was & RX_ENABLE) && s.ctrl & RX_ENABLE) this.startRx();
        if (was & RX_ENABLE && !(s.ctrl & RX_ENABLE)) this.stopRx();
        if (s.ctrl & TX_ENABLE) this.startTx();
        break;
      }
      case NicReg.INT_STATUS: s.intStatus &= ~v; break;
      case NicReg.INT_ENABLE: s.intEnable = v & INT_ALL; break;
      case NicReg.ITR_NS: s.itrNs = v; break;
      case NicReg.RX_BASE: s.rxBase = (v & ~15) >>> 0; s.rxHead = s.rxTail = 0; break;
      case NicReg.RX_SIZE: if (v <= MAX_RING) { s.rxSize = v; s.rxHead = s.rxTail = 0; } break;
      case NicReg.RX_TAIL: if (v < s.rxSize) s.rxTail = v; break;
      case NicReg.RX_BUF_SIZE: s.rxBufSize = v & 0xffff; break;
      case NicReg.TX_BASE: s.txBase = (v & ~15) >>> 0; s.txHead = s.txTail = 0; break;
      case NicReg.TX_SIZE: if (v <= MAX_RING) { s.txSize = v; s.txHead = s.txTail = 0; } break;
      case NicReg.TX_TAIL: if (v < s.txSize) { s.txTail = v; this.startTx(); } break;
      default: return;
    }
    this.updateIrq();
  }

  // ---- interrupts ----

  private updateIrq(): void {
    const s = this.state;
    if ((s.intStatus & s.intEnable) === 0) {
      if (s.irqSignalled) {
        s.irqSignalled = 0;
        if (!s.msiEnabled) this.irq.set(false);
      }
      this.clock.cancel(this.moderation);
      this.moderation = null;
      return;
    }
    if (s.irqSignalled || this.moderation !== null) return;
    const now = this.clock.now();
    if (s.itrNs > 0 && s.stats.interrupts > 0) {
      const earliest = s.lastIrqTick + nsToTicks(s.itrNs, this.clock.hz);
      if (now < earliest) {
        this.moderation = this.clock.at(earliest, this.onModerationFn, `${this.name}.itr`);
        return;
      }
    }
    s.irqSignalled = 1;
    s.lastIrqTick = now;
    s.stats.interrupts++;
    if (s.msiEnabled) this.msi!.deliverMsi(s.msiAddress, s.msiData);
    else this.irq.set(true);
  }

  // ---- receive ----

  private startRx(): void {
    if (this.options.arrivals === "off") return;
    this.state.rxStartTick = this.clock.now();
    this.process.restart(this.state);
    this.scheduleArrival();
  }

  private stopRx(): void {
    this.clock.cancel(this.nextArrival);
    this.nextArrival = null;
  }

  private scheduleArrival(): void {
    this.nextSize = this.process.next(this.state);
    const tick = this.state.rxStartTick + nsToTicks(this.state.arrNs, this.clock.hz);
    this.nextArrival = this.clock.at(tick, this.onArrivalFn, `${this.name}.rx`);
  }

  private onArrival(tick: Tick): void {
    const s = this.state;
    const size = this.nextSize;
    s.stats.arrivals++;
    s.rxSeq = (s.rxSeq + 1) >>> 0;
    this.receive(size, tick);
    this.scheduleArrival();
    this.updateIrq();
  }

  private receive(size: number, tick: Tick): void {
    const s = this.state;
    if (size > s.rxBufSize) {
      s.stats.rxOversize++;
      s.intStatus |= INT_RX_DROP;
      return;
    }
    if (s.rxSize === 0 || s.rxHead === s.rxTail) {
      s.stats.rxDropped++;
      s.intStatus |= INT_RX_DROP;
      return;
    }
    const descAddr = s.rxBase + s.rxHead * NIC_DESCRIPTOR_BYTES;
    const d = this.descView;
    let ok = this.dma.read(descAddr, this.desc);
    if (ok) ok = this.dma.write(d.getUint32(0, true), buildPacket(this.rxScratch, size, s.rxSeq, this.nsAt(tick)));
    if (ok) {
      d.setUint16(8, size, true);
      d.setUint16(10, DD | EOP, true);
      d.setUint32(12, s.rxSeq, true);
      ok = this.dma.write(descAddr + 8, this.desc.subarray(8, 16));
    }
    if (!ok) {
      s.stats.dmaErrors++;
      s.stats.rxDmaDropped++;
      s.intStatus |= INT_DMA_ERROR;
      return;
    }
    s.rxHead = (s.rxHead + 1) % s.rxSize;
    s.stats.rxPackets++;
    s.stats.rxBytes += size;
    s.intStatus |= INT_RX;
  }

  // ---- transmit ----

  /** Send descriptors from TX_HEAD while the wire is free; finishes bad ones at once. */
  private startTx(): void {
    const s = this.state;
    while (!s.txBusy && s.ctrl & TX_ENABLE && s.txSize > 0 && s.txHead !== s.txTail) {
      const descAddr = s.txBase + s.txHead * NIC_DESCRIPTOR_BYTES;
      const d = this.descView;
      if (!this.dma.read(descAddr, this.desc)) {
        this.txFailed(descAddr, true, false);
        continue;
      }
      const len = d.getUint16(8, true);
      const packet = new Uint8Array(len);
      if (len === 0 || !this.dma.read(d.getUint32(0, true), packet)) {
        this.txFailed(descAddr, len !== 0, true);
        continue;
      }
      s.txBusy = 1;
      s.txDescAddr = descAddr;
      s.txLen = len;
      this.txPacket = packet;
      const now = this.clock.now();
      this.clock.at(now + nsToTicks(wireNs(len, this.options.linkMbps), this.clock.hz), this.onTxDoneFn, `${this.name}.tx`);
    }
  }

  /** A descriptor that cannot be sent: counted, written back DD | ERR when it could be read at all. */
  private txFailed(descAddr: number, dmaError: boolean, writeBack: boolean): void {
    const s = this.state;
    s.stats.txErrors++;
    if (dmaError) {
      s.stats.dmaErrors++;
      s.intStatus |= INT_DMA_ERROR;
    }
    if (writeBack) this.writeTxFlags(descAddr, DD | ERR);
    this.advanceTx();
  }

  private writeTxFlags(descAddr: number, flags: number): void {
    const b = new Uint8Array(2);
    b[0] = flags;
    if (!this.dma.write(descAddr + 10, b)) {
      this.state.stats.dmaErrors++;
      this.state.intStatus |= INT_DMA_ERROR;
    }
  }

  private advanceTx(): void {
    const s = this.state;
    s.txHead = s.txSize > 0 ? (s.txHead + 1) % s.txSize : 0;
    s.intStatus |= INT_TX;
  }

  private onTxDone(tick: Tick): void {
    const s = this.state;
    const packet = this.txPacket!;
    s.txBusy = 0;
    this.txPacket = null;
    s.stats.txPackets++;
    s.stats.txBytes += s.txLen;
    this.writeTxFlags(s.txDescAddr, DD);
    this.advanceTx();
    this.txSink?.(packet, tick);
    this.startTx();
    this.updateIrq();
  }

}
