/**
 * The load programs' mini kernel (src/guests/drivers/mini-kernel.ts), bare metal. References: SDM Vol. 3A
 * Table 6-1 (#UD pushes no error code, #GP does), 6.13 (the error code of a segment fault is the selector
 * with EXT/IDT/TI bits: for MOV DS with a selector beyond the GDT limit, the selector itself) and 3.4.3
 * (MOV to DS checks the selector against the GDT limit); the abi.ts log layout (a BOOT record per vCPU
 * with its index, the header's TSC_KHZ).
 */
import { describe, expect, it } from "vitest";
import { bareMetalStand, boot, us, vcpuLog } from "./bare-metal.ts";
import { buildMiniKernelImage } from "../../../src/guests/drivers/mini-kernel.ts";
import { ax, ds, eax, ebp } from "../../../src/guests/asm/index.ts";
import { LogKind } from "../../../src/vmm/abi.ts";

describe("mini kernel", () => {
  it("boots every vCPU with its own ring; exceptions write a FAULT record (vector, error code, EIP) and stop the vCPU", () => {
    const s = bareMetalStand([], { cores: 2 });
    const img = buildMiniKernelImage(s.env, {
      name: "faults",
      workload(a) {
        a.test(ebp, ebp);
        a.jnz("gp");
        a.label("ud").ud2();
        a.label("gp");
        a.mov(eax, 0x28);
        a.mov(ds, ax);
      },
    });
    boot(s, img);
    s.m.run(us(s, 200));
    const l0 = vcpuLog(s.m.ram, img, 0), l1 = vcpuLog(s.m.ram, img, 1);
    expect(l0.tscKhz).toBe(3_000_000);
    expect(l0.records.map((r) => [r.kind, r.v0])).toEqual([[LogKind.BOOT, 0], [LogKind.FAULT, 0]]);
    expect(l0.records[1]).toMatchObject({ id: 6, v1: img.symbols.ud });
    expect(l1.records.map((r) => [r.kind, r.v0])).toEqual([[LogKind.BOOT, 1], [LogKind.FAULT, 0x28]]);
    expect(l1.records[1]).toMatchObject({ id: 13, v1: img.symbols.gp + 5 }); // MOV EAX, imm32 is 5 bytes
    expect(s.m.cores.every((c) => c.halted)).toBe(true);
  });
});
