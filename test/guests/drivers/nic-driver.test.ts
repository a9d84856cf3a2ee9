/**
 * The nic driver in register mode, bare metal: gpos-load's io workload transmits through drv0_submit /
 * drv0_wait while the card receives a constant packet stream that the irq routine takes and recycles.
 * References: the nic datasheet (src/devices/nic.ts header: descriptor rings after the e1000's, DD
 * write-back, TX wire time = (max(len + 4, 64) + 20) * 8 bits at linkMbps, Ethernet framing as in
 * nic-arrivals.ts) and the card model's report(): every packet sent was logged by the driver, every packet
 * received was counted by the driver and none dropped for lack of descriptors.
 */
import { describe, expect, it } from "vitest";
import { bareMetalStand, boot, us, vcpuLog } from "./bare-metal.ts";
import { buildGposLoadGuest } from "../../../src/guests/programs/gpos-load.ts";
import { NIC_DESC, NIC_REG } from "../../../src/guests/drivers/nic-driver.ts";
import { Nic, NicReg } from "../../../src/devices/nic.ts";
import { LogKind, PvOp } from "../../../src/vmm/abi.ts";

describe("nic driver, register mode (bare metal)", () => {
  it("uses the datasheet's register offsets and descriptor layout", () => {
    for (const [name, off] of Object.entries(NIC_REG)) expect(off, name).toBe(NicReg[name as keyof typeof NicReg]);
    expect(NIC_DESC).toEqual({ ADDR: 0, LEN: 8, FLAGS: 10, SEQ: 12 });
  });

  it("TX every 100 us: an IO record per packet, latency >= wire time; RX at 20 kpps: all taken, none dropped", () => {
    const s = bareMetalStand([{ name: "net", type: "nic", options: { arrivals: "constant", ppsRate: 20000, packetMinBytes: 100, packetMaxBytes: 100, linkMbps: 100 } }]);
    const img = buildGposLoadGuest({ vcpus: [{ kind: "io", device: "net", op: "tx", bytes: 1000, intervalUs: 100 }] }, s.env);
    boot(s, img);
    s.m.run(us(s, 2000));
    const nic = s.cards.net.device as Nic;
    const rep = nic.report();
    const io = vcpuLog(s.m.ram, img, 0).records.filter((r) => r.kind === LogKind.IO);
    expect(io.length).toBeGreaterThanOrEqual(18);
    expect(rep.txPackets - io.length).toBeGreaterThanOrEqual(0);
    expect(rep.txPackets - io.length).toBeLessThanOrEqual(1);
    expect(rep.txBytes).toBe(rep.txPackets * 1000);
    expect(rep.txErrors).toBe(0);
    const wireTicks = us(s, ((1000 + 4 + 20) * 8) / 100); // 81.92 us at 100 Mb/s
    for (const r of io) {
      expect(r).toMatchObject({ id: 0, v0: PvOp.TX, v1: 1000, v2: 0 });
      expect(r.t1 - r.t0).toBeGreaterThanOrEqual(wireTicks);
      expect(r.t1 - r.t0).toBeLessThan(wireTicks + us(s, 5));
    }
    const rxCount = new DataView(s.m.ram.buffer).getUint32(img.symbols["drv0.rx_packets"], true);
    expect(rep.arrivals).toBeGreaterThanOrEqual(39);
    expect(rep.rxPackets).toBe(rep.arrivals);
    expect(rep.rxDropped + rep.rxOversize + rep.rxDmaDropped).toBe(0);
    expect(rxCount).toBe(rep.rxPackets);
  });
});
