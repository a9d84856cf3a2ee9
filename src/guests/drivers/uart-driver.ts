/**
 * Guest driver for the console UART (a 16550A: registers after the PC16550D datasheet, as in the header of
 * src/devices/uart-16550.ts; reached through I/O ports at env.devices[i].port). Op: WRITE (EBX = bytes,
 * ECX = count): the operation is complete when the last byte has been handed to the transmitter.
 *
 * Register mode: init programs 115200 baud 8N1 (LCR.DLAB, DLL = 1, DLM = 0, LCR = 03H), enables and clears
 * the FIFOs (FCR = 07H), sets DTR, RTS and OUT2 (MCR = 0BH) and leaves IER = 0: transmission is polled, as
 * console drivers do (a THRE interrupt per 16 bytes would only add exits when emulated). submit and wait
 * "pump": while bytes remain and LSR.THRE says the FIFO is empty, write up to 16 bytes to THR (one OUT per
 * byte, each an I/O exit when emulated). The wait pumps every UART_POLL_US, not in a tight loop (an IN
 * costs ~1 us on hardware). The irq routine reads IIR (clears a THRE report) and returns 0.
 * Paravirtual: WRITE requests on the ring.
 * Leaves out: receiving, modem control, the 16550's FIFO trigger levels (unused when transmitting).
 */
import { al, dx, eax, ebx, ecx, edx, esi } from "../asm/index.ts";
import { PvOp } from "../../vmm/abi.ts";
import {
  type DriverCtx, STATUS_BAD_OP, emitSubmitExits, emitSubmitPrologue, emitWait, pollGate, usToTsc,
} from "./driver-common.ts";
import { emitPvInit, emitPvIrqNothing, emitPvRing, emitPvSubmitWait } from "./pv-ring.ts";

export const UART_REG = { THR: 0, DLL: 0, IER: 1, DLM: 1, FCR: 2, IIR: 2, LCR: 3, MCR: 4, LSR: 5 } as const;
const LSR_THRE = 0x20;
const FIFO_BYTES = 16;
export const UART_POLL_US = 20;

export function emitUartDriver(c: DriverCtx): void {
  if (c.dev.mode === "paravirtual") {
    emitPvRing(c);
    emitPvInit(c);
    emitPvSubmitWait(c);
    emitPvIrqNothing(c);
    return;
  }
  const { a } = c;
  const port = c.dev.port;
  if (port === null) throw new Error(`${c.dev.name}: the uart driver needs an I/O port base`);
  const outb = (off: number, v: number) => {
    a.mov(edx, port + off);
    a.mov(al, v);
    a.out(dx, al);
  };

  a.label(`${c.p}_init`);
  outb(UART_REG.LCR, 0x80);
  outb(UART_REG.DLL, 1);
  outb(UART_REG.DLM, 0);
  outb(UART_REG.LCR, 0x03);
  outb(UART_REG.FCR, 0x07);
  outb(UART_REG.MCR, 0x0b);
  outb(UART_REG.IER, 0);
  a.ret();

  // pump: preserves EBX, ESI, EDI, EBP; clobbers EAX, ECX, EDX.
  a.label(c.l("pump"));
  a.mov(ecx, c.v("left"));
  a.test(ecx, ecx);
  a.jz(c.l("pump.ret"));
  a.mov(edx, port + UART_REG.LSR);
  a.in(al, dx);
  a.test(al, LSR_THRE);
  a.jz(c.l("pump.ret"));
  a.cmp(ecx, FIFO_BYTES);
  a.jbe(c.l("pump.n"));
  a.mov(ecx, FIFO_BYTES);
  a.label(c.l("pump.n"));
  a.sub(c.v("left"), ecx);
  a.push(esi);
  a.mov(esi, c.v("ptr"));
  a.mov(edx, port + UART_REG.THR);
  a.cld();
  a.label(c.l("pump.byte"));
  a.lodsb();
  a.out(dx, al);
  a.dec(ecx);
  a.jnz(c.l("pump.byte"));
  a.mov(c.v("ptr"), esi);
  a.pop(esi);
  a.jmp(c.l("pump"));
  a.label(c.l("pump.ret"));
  a.ret();

  emitSubmitPrologue(c);
  a.cmp(eax, PvOp.WRITE);
  a.je(c.l("write"));
  a.mov(eax, STATUS_BAD_OP);
  a.jmp(c.l("done_imm"));
  a.label(c.l("write"));
  a.mov(c.v("ptr"), ebx);
  a.mov(c.v("left"), ecx);
  a.call(c.l("pump"));
  a.jmp(c.l("accept"));
  emitSubmitExits(c);

  const poll = usToTsc(c.env, UART_POLL_US);
  emitWait(c, () => {
    a.cmp(c.v("left"), 0);
    a.jne(c.l("wait.more"));
    a.xor(eax, eax);
    a.jmp(c.l("seen"));
    a.label(c.l("wait.more"));
    pollGate(c);
    a.call(c.l("pump"));
  }, { poll: { withIrqCycles: poll, withoutIrqCycles: poll } });

  a.label(`${c.p}_irq`);
  a.mov(edx, port + UART_REG.IIR);
  a.in(al, dx);
  a.xor(eax, eax);
  a.ret();
}
