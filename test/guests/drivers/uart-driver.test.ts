/**
 * The uart driver in register mode, bare metal, on the 16550A model. References: the PC16550D datasheet
 * (register offsets, LCR.DLAB divisor latch, FCR FIFO enable, LSR.THRE = transmit FIFO empty; 16-byte FIFO
 * plus the shift register) and the UART model's transmitted bytes: what the driver wrote arrives on the
 * line in order, at 115200 baud (10 bits per character = 86.8 us); the write completes when its last byte
 * was handed over, which cannot happen before all but 17 bytes (FIFO + shift register) have left.
 */
import { describe, expect, it } from "vitest";
import { bareMetalStand, boot, us, vcpuLog } from "./bare-metal.ts";
import { buildScriptGuest, scriptResults } from "./script-guest.ts";
import { LogKind, PvOp } from "../../../src/vmm/abi.ts";
import { UART_REG } from "../../../src/guests/drivers/uart-driver.ts";

const TEXT = "vmxsim uart driver: 40 bytes of output.\n";

describe("uart driver, register mode (bare metal)", () => {
  it("uses the 16550's register offsets", () => {
    expect(UART_REG).toEqual({ THR: 0, DLL: 0, IER: 1, DLM: 1, FCR: 2, IIR: 2, LCR: 3, MCR: 4, LSR: 5 });
  });

  it("WRITE of 40 bytes: they reach the line in order at 115200 baud; completion after all but 17 have left", () => {
    const s = bareMetalStand([{ name: "console", type: "uart" }]);
    const text = new TextEncoder().encode(TEXT);
    expect(text.length).toBe(40);
    const img = buildScriptGuest(s.env, [{ dev: 0, op: PvOp.WRITE, buf: { n: 0 }, bytes: 40 }, { dev: 0, op: PvOp.READ, buf: 0, bytes: 1 }], [text]);
    boot(s, img);
    s.m.run(us(s, 4000));
    expect(new TextDecoder().decode(Uint8Array.from(s.uartOut))).toBe(TEXT);
    expect(scriptResults(s.m.ram, img, 2)).toEqual([[0, 0], [0, 0x102]]);
    const [w] = vcpuLog(s.m.ram, img, 0).records.filter((r) => r.kind === LogKind.IO);
    expect(w).toMatchObject({ v0: PvOp.WRITE, v1: 40, v2: 0 });
    const charUs = 10e6 / 115200;
    expect(w.t1 - w.t0).toBeGreaterThanOrEqual(us(s, (40 - 17) * charUs));
    expect(w.t1 - w.t0).toBeLessThan(us(s, 40 * charUs));
  });
});
