/**
 * The Bochs harness itself (bochs.ts): that it really boots our ROM, that it tells the ways a run ends
 * apart, and that the vmxsim ROM runner ends the same kernels the same way. References: Bochs 2.7's
 * own output formats (debugger lines recorded below from `bochs -q -f bochsrc -rc cmds`), SDM Vol. 3A
 * 9.1.1 Table 9-1 (CR0 = 60000010H at power-up, which Bochs must show to our ROM), 20.1.4 and 6.15
 * (real-mode IDTR limit 0: #UD -> #GP -> #DF -> triple fault).
 * Bochs is required: without it these tests fail saying what to install.
 */
import { describe, expect, it } from "vitest";
import { runRom } from "../../src/scenario/rom-runner.ts";
import { assembleKernel, assembleSource, missingTools, parseBochsStdout, runBochs, SYSTEM_RAM_MIB } from "./bochs.ts";

const MISSING = missingTools();
const need = () => {
  if (MISSING) throw new Error(MISSING);
};

/** A ROM whose reset vector jumps to `body` (16-bit NASM source). */
const tiny = (body: string) => assembleSource(
  `bits 16\norg 0\nstart:\n${body}\ntimes 0xFFF0 - ($ - $$) db 0xFF\njmp 0xF000:start\ntimes 0x10000 - ($ - $$) db 0xFF\n`,
);

describe("Bochs harness", () => {
  it("splits Bochs 2.7's stdout into debugcon bytes and the debugger's lines", () => {
    const banner = "=====\n   Bochs x86 Emulator 2.7\n=====\nNext at t=0\n";
    const first = "(0) [0x0000fffffff0] f000:fff0 (unk. ctxt): jmpf 0xf000:0000          ; ea000000f0\n";
    const stop = "(0).[108] [0x0000000f001d] f000:001d (unk. ctxt): out dx, al                ; ee\n";
    expect(parseBochsStdout(banner + first + "hello bochs\n" + stop)).toEqual({ debugcon: "hello bochs\n", ticks: 108 });
    // After a triple fault Bochs prints the stop line twice, glued to output without a newline.
    const tf = "(0).[4] [0x0000000f000a] f000:000a (unk. ctxt): int3                      ; cc\n";
    expect(parseBochsStdout(banner + first + "T" + tf + tf)).toEqual({ debugcon: "T", ticks: 4 });
    expect(parseBochsStdout(banner)).toEqual({ debugcon: "", ticks: undefined });
  });

  it("has Bochs, bochs-term, vgabios and nasm", () => {
    need();
  });

  it("boots our ROM (not a BIOS) in the SDM's power-up state, and sees a one-byte change in it", async () => {
    need();
    const rom = assembleKernel("realmode");
    const b = await runBochs(rom);
    expect(b.end).toBe("shutdown-port");
    expect(b.debugcon.startsWith("RESET cr0=60000010 eflags=00000002 cs=f000 ss=0000\n")).toBe(true);
    const at = Buffer.from(rom).indexOf("RESET");
    const changed = rom.slice();
    changed[at + 4] = "t".charCodeAt(0);
    const c = await runBochs(changed);
    expect(c.debugcon.startsWith("RESEt cr0=")).toBe(true);
    expect(c.debugcon.slice(5)).toBe(b.debugcon.slice(5));
  });

  it("ends a run at HLT with IF = 0 at once, as vmxsim does", async () => {
    need();
    const rom = tiny("mov al, 'h'\nout 0xE9, al\ncli\nhlt");
    const t0 = performance.now();
    const b = await runBochs(rom, { timeoutMs: 20_000 });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect([b.end, b.debugcon]).toEqual(["halt", "h"]);
    const v = runRom(rom, { ramMiB: SYSTEM_RAM_MIB });
    expect([v.stop, Buffer.from(v.stdout).toString("latin1")]).toEqual(["halt", "h"]);
  });

  it("ends a run at a triple fault, as vmxsim does", async () => {
    need();
    const rom = tiny(
      "mov al, 't'\nout 0xE9, al\nxor ax, ax\nmov ds, ax\nmov word [0x500], 0\nmov dword [0x502], 0\n" +
        "lidt [0x500]\nud2",
    );
    const b = await runBochs(rom);
    expect([b.end, b.debugcon]).toEqual(["triple-fault", "t"]);
    expect(b.reason).toMatch(/3rd \(13\) exception with no resolution/);
    const v = runRom(rom, { ramMiB: SYSTEM_RAM_MIB, maxInsns: 1000 });
    expect([v.stop, Buffer.from(v.stdout).toString("latin1")]).toEqual(["shutdown", "t"]);
  });

  it("gives up on a kernel that never ends (timeout)", async () => {
    need();
    const b = await runBochs(tiny("mov al, 'l'\nout 0xE9, al\nsti\njmp $"), { timeoutMs: 1500 });
    expect([b.end, b.debugcon]).toEqual(["timeout", "l"]);
  });
});
