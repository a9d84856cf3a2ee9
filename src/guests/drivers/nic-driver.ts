/**
 * Guest driver for the nic (register map, descriptor layout and ring protocol: the datasheet in the header
 * of src/devices/nic.ts, after the e1000's; restated here because guests may not import devices/). Op: TX
 * (EBX = packet, ECX = length, 1 .. 65535). Received packets are taken by the irq routine and counted
 * (`${p}.rx_packets`); the driver gives their buffers straight back (a receive path without consumers).
 *
 * Register mode: init builds an RX ring of NIC_RX_DESCS descriptors over buffers of NIC_RX_BUF_BYTES in the
 * image (all but one given to the card: HEAD = TAIL means "none free") and a TX ring of NIC_TX_DESCS,
 * enables RX, TX, RX_DROP and DMA_ERROR interrupts and starts RX and TX. submit fills the TX descriptor at
 * the driver's tail and writes TX_TAIL (one MMIO write); the card writes DD (and ERR) back into the
 * descriptor, which the wait polls in memory (status 0, or 2 | DEVICE << 8 with ERR). irq reads INT_STATUS,
 * clears what it saw (W1C), and on RX walks the descriptors with DD from its next index, clears them and
 * moves RX_TAIL once (three MMIO accesses per interrupt with RX, two without).
 * Paravirtual: TX requests on the ring; init posts NIC_PV_RX_BUFFERS RX requests (one buffer each), and irq
 * counts each completed one and posts it again (one doorbell for all).
 * Leaves out: MSI (the VMM routes the interrupt), interrupt moderation (ITR_NS stays as the card's option
 * sets it), RX through submit in register mode (BAD_OP), packets longer than one buffer.
 */
import { cx, dword, eax, ebx, ecx, edx, lbl, word } from "../asm/index.ts";
import { PvOp, PvSlot } from "../../vmm/abi.ts";
import { type DriverCtx, STATUS_BAD_OP, STATUS_DEVICE, emitSubmitExits, emitSubmitPrologue, emitWait } from "./driver-common.ts";
import { checkPosted, emitPvInit, emitPvRing, emitPvSubmitWait, repost } from "./pv-ring.ts";

export const NIC_REG = {
  CTRL: 0x04, INT_STATUS: 0x08, INT_ENABLE: 0x0c, RX_BASE: 0x14, RX_SIZE: 0x18, RX_TAIL: 0x20, RX_BUF_SIZE: 0x24,
  TX_BASE: 0x28, TX_SIZE: 0x2c, TX_TAIL: 0x34,
} as const;
/** Descriptor fields (nic.ts): ADDR +0, LEN u16 +8, FLAGS u16 +10, SEQ +12. */
export const NIC_DESC = { ADDR: 0, LEN: 8, FLAGS: 10, SEQ: 12 } as const;
const DESC_BYTES = 16;
const RX_ENABLE = 1, TX_ENABLE = 2;
const INT_RX = 1, INT_TX = 2, INT_RX_DROP = 4, INT_DMA_ERROR = 8;
const DD = 1, ERR = 4;

export const NIC_RX_DESCS = 8;
export const NIC_TX_DESCS = 8;
export const NIC_RX_BUF_BYTES = 2048;
export const NIC_PV_RX_BUFFERS = 4;

export function emitNicDriver(c: DriverCtx): void {
  const { a } = c;
  const rxBufs = c.l("rx_bufs");
  const nRx = c.dev.mode === "paravirtual" ? NIC_PV_RX_BUFFERS : NIC_RX_DESCS;
  c.data((d) => {
    d.align(64);
    d.label(rxBufs);
    d.times(nRx * NIC_RX_BUF_BYTES);
  });

  if (c.dev.mode === "paravirtual") {
    emitPvRing(c);
    /** Post RX for buffer k (EBX, ECX, EDX clobbered; the caller saved EBX). */
    const postRx = (k: number) => {
      a.mov(ebx, lbl(rxBufs, k * NIC_RX_BUF_BYTES));
      a.mov(ecx, NIC_RX_BUF_BYTES);
      a.xor(edx, edx);
      repost(c, `rx_slot${k}`, PvOp.RX);
    };
    emitPvInit(c, () => {
      a.push(ebx);
      for (let k = 0; k < NIC_PV_RX_BUFFERS; k++) postRx(k);
      a.call(c.l("pv_notify"));
      a.pop(ebx);
    });
    emitPvSubmitWait(c);

    a.label(`${c.p}_irq`);
    a.cmp(c.v("pv_ok"), 0);
    a.je(c.l("irq.ret0"));
    a.push(ebx);
    a.mov(c.v("reposted"), 0);
    for (let k = 0; k < NIC_PV_RX_BUFFERS; k++) {
      const next = c.l(`irq.rx${k}.next`);
      checkPosted(c, `rx_slot${k}`, next);
      a.test(edx, edx);
      a.jz(c.l(`irq.rx${k}.post`));
      a.cmp(dword(edx, PvSlot.STATUS), 1);
      a.jne(c.l(`irq.rx${k}.post`));
      a.inc(c.v("rx_packets"));
      a.label(c.l(`irq.rx${k}.post`));
      postRx(k);
      a.mov(c.v("reposted"), 1);
      a.label(next);
    }
    a.cmp(c.v("reposted"), 0);
    a.je(c.l("irq.out"));
    a.call(c.l("pv_notify"));
    a.label(c.l("irq.out"));
    a.pop(ebx);
    a.label(c.l("irq.ret0"));
    a.xor(eax, eax);
    a.ret();
    return;
  }

  const rxRing = c.l("rx_ring");
  const txRing = c.l("tx_ring");
  c.data((d) => {
    d.align(64);
    d.label(rxRing);
    for (let k = 0; k < NIC_RX_DESCS; k++) d.dd(lbl(rxBufs, k * NIC_RX_BUF_BYTES), 0, 0, 0);
    d.label(txRing);
    d.times(NIC_TX_DESCS * DESC_BYTES);
  });

  a.label(`${c.p}_init`);
  c.wr(NIC_REG.RX_BUF_SIZE, NIC_RX_BUF_BYTES);
  c.wr(NIC_REG.RX_BASE, rxRing);
  c.wr(NIC_REG.RX_SIZE, NIC_RX_DESCS);
  c.wr(NIC_REG.RX_TAIL, NIC_RX_DESCS - 1);
  c.wr(NIC_REG.TX_BASE, txRing);
  c.wr(NIC_REG.TX_SIZE, NIC_TX_DESCS);
  c.wr(NIC_REG.INT_STATUS, INT_RX | INT_TX | INT_RX_DROP | INT_DMA_ERROR);
  c.wr(NIC_REG.INT_ENABLE, INT_RX | INT_TX | INT_RX_DROP | INT_DMA_ERROR);
  c.wr(NIC_REG.CTRL, RX_ENABLE | TX_ENABLE);
  a.ret();

  emitSubmitPrologue(c);
  a.cmp(eax, PvOp.TX);
  a.je(c.l("tx"));
  a.mov(eax, STATUS_BAD_OP);
  a.jmp(c.l("done_imm"));
  a.label(c.l("tx"));
  a.mov(edx, c.v("tx_tail"));
  a.mov(eax, edx);
  a.shl(eax, 4);
  a.add(eax, txRing);
  a.mov(dword(eax, NIC_DESC.ADDR), ebx);
  a.mov(dword(eax, 4), 0);
  a.movzx(ecx, cx);
  a.mov(dword(eax, NIC_DESC.LEN), ecx); // LEN, and FLAGS = 0
  a.mov(dword(eax, NIC_DESC.SEQ), 0);
  a.mov(c.v("slot"), eax);
  a.inc(edx);
  a.and(edx, NIC_TX_DESCS - 1);
  a.mov(c.v("tx_tail"), edx);
  c.wr(NIC_REG.TX_TAIL, edx);
  a.jmp(c.l("accept"));
  emitSubmitExits(c);

  emitWait(c, () => {
    a.mov(edx, c.v("slot"));
    a.movzx(eax, word(edx, NIC_DESC.FLAGS));
    a.test(eax, DD);
    a.jz(c.l("wait.pause"));
    a.test(eax, ERR);
    a.mov(eax, 0);
    a.jz(c.l("seen"));
    a.mov(eax, STATUS_DEVICE);
    a.jmp(c.l("seen"));
  });

  a.label(`${c.p}_irq`);
  c.rd(ecx, NIC_REG.INT_STATUS);
  a.test(ecx, ecx);
  a.jz(c.l("irq.out"));
  c.wr(NIC_REG.INT_STATUS, ecx);
  a.test(ecx, INT_RX | INT_RX_DROP);
  a.jz(c.l("irq.out"));
  a.mov(ecx, c.v("rx_next"));
  a.mov(edx, ecx);
  a.label(c.l("irq.scan"));
  a.mov(eax, ecx);
  a.shl(eax, 4);
  a.test(word({ base: eax, disp: lbl(rxRing, NIC_DESC.FLAGS) }), DD);
  a.jz(c.l("irq.scanned"));
  a.mov(dword({ base: eax, disp: lbl(rxRing, NIC_DESC.LEN) }), 0);
  a.inc(c.v("rx_packets"));
  a.inc(ecx);
  a.and(ecx, NIC_RX_DESCS - 1);
  a.cmp(ecx, edx);
  a.jne(c.l("irq.scan"));
  a.label(c.l("irq.scanned"));
  a.cmp(ecx, c.v("rx_next"));
  a.je(c.l("irq.out"));
  a.mov(c.v("rx_next"), ecx);
  a.add(ecx, NIC_RX_DESCS - 1);
  a.and(ecx, NIC_RX_DESCS - 1);
  c.wr(NIC_REG.RX_TAIL, ecx);
  a.label(c.l("irq.out"));
  a.xor(eax, eax);
  a.ret();
}
