/**
 * The rt-io driver in register mode, bare metal. References: the rt-io datasheet (src/devices/rt-io.ts
 * header: periodic events at firstEventUs + k * periodUs after ENABLE, TS = the event's device ns time,
 * ACK = SEQ acknowledges, ACTUATE writes are time-stamped) and the card model's report(): every event was
 * acknowledged by the driver's irq routine, none missed; the IRQ records carry SEQ 1, 2, ... and TS spaced
 * by the period; the ISR's TSC lies between the event and the card's acknowledgement time.
 */
import { describe, expect, it } from "vitest";
import { bareMetalStand, boot, us, vcpuLog } from "./bare-metal.ts";
import { buildScriptGuest, scriptResults } from "./script-guest.ts";
import { RT_IO_REG } from "../../../src/guests/drivers/rt-io-driver.ts";
import { RtIo, RtIoReg } from "../../../src/devices/rt-io.ts";
import { LogKind, PvOp } from "../../../src/vmm/abi.ts";

describe("rt-io driver, register mode (bare metal)", () => {
  it("uses the datasheet's register offsets", () => {
    for (const [name, off] of Object.entries(RT_IO_REG)) expect(off, name).toBe(RtIoReg[name as keyof typeof RtIoReg]);
  });

  it("each periodic event: an IRQ record (SEQ, TS, ISR TSC) and an ACK; ACTUATE through submit completes at once", () => {
    const s = bareMetalStand([{ name: "sensor", type: "rt-io", options: { source: "periodic", periodUs: 50 } }]);
    const steps = [{ dev: 0, op: PvOp.ACTUATE, buf: 0, bytes: 0, arg0: 42 }, { dev: 0, op: PvOp.WAIT, buf: 0, bytes: 0 }];
    const img = buildScriptGuest(s.env, steps, []);
    boot(s, img);
    s.m.run(us(s, 1010));
    const card = s.cards.sensor.device as RtIo;
    const rep = card.report();
    expect(scriptResults(s.m.ram, img, 2)).toEqual([[0, 0], [0, 0x102]]); // WAIT is a PV op: BAD_OP in register mode
    expect(rep.actuations.map((x) => x.value)).toEqual([42]);
    const recs = vcpuLog(s.m.ram, img, 0).records;
    const io = recs.filter((r) => r.kind === LogKind.IO);
    expect(io.map((r) => [r.v0, r.v2])).toEqual([[PvOp.ACTUATE, 0], [PvOp.WAIT, 0x102]]);
    const irq = recs.filter((r) => r.kind === LogKind.IRQ);
    expect(rep.events).toBe(20); // 1000 us / 50 us after ENABLE at boot
    expect(rep.missed).toBe(0);
    expect(rep.badAcks).toBe(0);
    expect(irq.length).toBe(rep.acked);
    expect(rep.acked).toBeGreaterThanOrEqual(rep.events - 1);
    const hz = s.m.hz;
    irq.forEach((r, k) => {
      expect(r.id).toBe(0);
      expect(r.v0).toBe(k + 1);
      if (k > 0) expect(r.t1 - irq[k - 1].t1).toBe(50_000);
      const eventTick = Math.ceil((r.t1 * hz) / 1e9) - 1; // TS = floor(tick * 1e9 / hz)
      expect(r.t0).toBeGreaterThan(eventTick);
      expect(r.t0 - eventTick).toBeLessThan(rep.latencyTicks[k]); // the ISR starts before the ACK lands
      // ... and the ACK follows the ISR's entry by the SEQ read (the profile's 850 ns MMIO read) plus the
      // few instructions around it, not by the TS reads.
      const ackAfterIsr = rep.latencyTicks[k] - (r.t0 - eventTick);
      expect(ackAfterIsr).toBeGreaterThanOrEqual(us(s, 0.85));
      expect(ackAfterIsr).toBeLessThan(us(s, 0.85 + 0.3));
    });
  });
});
