/**
 * The bare-metal runner's contract (issue 2, "Bare-metal runner"): each way a run can end gives its
 * exit status and note. Kernels are hand-assembled machine code (bytes checked against the SDM's
 * opcode map) wrapped as flat Multiboot images, so these tests do not depend on our assembler.
 */
import { describe, expect, it } from "vitest";
import { execImage } from "../../src/scenario/exec-runner.ts";
import { flatKernel } from "./fixtures/multiboot-flat.ts";

const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");
const OUT_E9 = [0xe6, 0xe9]; // out 0xe9, al
const movAl = (v: number) => [0xb0, v];
const exitWith = (v: number) => [...movAl(v), 0xe6, 0xf4]; // out 0xf4, al

describe("exec runner", () => {
  it("streams debugcon bytes to stdout and ends on isa-debug-exit with (v << 1) | 1", () => {
    const chunks: Uint8Array[] = [];
    const r = execImage(flatKernel({ code: [...movAl(0x48), ...OUT_E9, ...movAl(0x69), ...OUT_E9, ...exitWith(0x10)] }), {
      onOutput: (c) => chunks.push(c),
    });
    expect(r.stop).toBe("debug-exit");
    expect(r.status).toBe(0x21);
    expect(r.debugExitValue).toBe(0x10);
    expect(text(r.stdout)).toBe("Hi");
    expect(text(Buffer.concat(chunks))).toBe("Hi");
    expect(r.instructions).toBe(6);
    expect(r.cycles).toBeGreaterThan(0);
    expect(r.notes).toEqual([]);
  });

  it("stops right after the OUT to isa-debug-exit: later instructions do not run", () => {
    const r = execImage(flatKernel({ code: [...exitWith(1), ...movAl(0x41), ...OUT_E9] }));
    expect(r.status).toBe(3);
    expect(r.stdout.length).toBe(0);
  });

  it("starts in the Multiboot state: EAX = 0x2BADB002, EBX = info with mem_lower 640", () => {
    // cmp eax, 0x2badb002; jne fail; cmp dword [ebx+4], 640; jne fail; exit(0x2a); fail: exit(0x55)
    const code = [
      0x3d, 0x02, 0xb0, 0xad, 0x2b, 0x75, 0x0d,
      0x81, 0x7b, 0x04, 0x80, 0x02, 0x00, 0x00, 0x75, 0x04,
      ...exitWith(0x2a), ...exitWith(0x55),
    ];
    expect(execImage(flatKernel({ code })).status).toBe((0x2a << 1) | 1);
  });

  it("ends with status 0 and a note when the core halts with interrupts disabled", () => {
    const r = execImage(flatKernel({ code: [...movAl(0x2e), ...OUT_E9, 0xfa, 0xf4] })); // cli; hlt
    expect(r.stop).toBe("halt");
    expect(r.status).toBe(0);
    expect(text(r.stdout)).toBe(".");
    expect(r.notes.join("\n")).toMatch(/halted with interrupts disabled at eip=0x00100026/);
  });

  it("ends with status 0 when the core halts with IF=1 but nothing can interrupt it, saying so", () => {
    const r = execImage(flatKernel({ code: [0xfb, 0xf4] })); // sti; hlt
    expect(r.status).toBe(0);
    expect(r.notes.join("\n")).toMatch(/halted with interrupts enabled .* nothing is scheduled that could wake a core/);
  });

  it("ends with status 3 and a register dump on a triple fault", () => {
    const r = execImage(flatKernel({ code: [0xbe, 0x78, 0x56, 0x34, 0x12, 0x0f, 0x0b] })); // mov esi, 0x12345678; ud2 (no IDT)
    expect(r.stop).toBe("shutdown");
    expect(r.status).toBe(3);
    const n = r.notes.join("\n");
    expect(n).toMatch(/triple fault/);
    expect(n).toMatch(/esi=12345678/);
    expect(n).toMatch(/eip=00100025/);
  });

  it("ends with status 124 at --max-insns, exactly after N instructions", () => {
    const r = execImage(flatKernel({ code: [0xeb, 0xfe] }), { maxInsns: 12345, quantumCycles: 1000 });
    expect(r.stop).toBe("max-insns");
    expect(r.status).toBe(124);
    expect(r.instructions).toBe(12345);
    expect(r.notes.join("\n")).toMatch(/instruction limit reached: 12345 instructions/);
  });

  it("lets a guest that exits on its last allowed instruction exit normally", () => {
    const r = execImage(flatKernel({ code: exitWith(7) }), { maxInsns: 2 });
    expect(r.status).toBe(15);
  });

  it("ends with status 2 and the loader's message on a malformed image", () => {
    const r = execImage(new Uint8Array(100));
    expect(r.stop).toBe("bad-image");
    expect(r.status).toBe(2);
    expect(r.notes.join("\n")).toMatch(/bad image: no Multiboot header/);
  });

  it("records POST codes written to 0x80 and 0x190", () => {
    // mov al, 0x11; out 0x80, al; mov dx, 0x190; mov al, 0x22; out dx, al; exit(0)
    const r = execImage(flatKernel({ code: [...movAl(0x11), 0xe6, 0x80, 0x66, 0xba, 0x90, 0x01, ...movAl(0x22), 0xee, ...exitWith(0)] }));
    expect(r.postCodes).toEqual([{ port: 0x80, code: 0x11 }, { port: 0x190, code: 0x22 }]);
  });

  it("gives the same result whatever the quantum (determinism)", () => {
    // A loop that prints ECX's low byte pattern: mov ecx, 300; l: mov al, cl; and al, 0x3f; add al, 0x30; out; loop l; exit
    const code = [0xb9, 0x2c, 0x01, 0x00, 0x00, 0x88, 0xc8, 0x24, 0x3f, 0x04, 0x30, ...OUT_E9, 0xe2, 0xf6, ...exitWith(3)];
    const a = execImage(flatKernel({ code }), { quantumCycles: 7 });
    const b = execImage(flatKernel({ code }), { quantumCycles: 100_000 });
    expect(a.status).toBe(7);
    expect(a.stdout.length).toBe(300);
    expect(a.machine.quantumCycles).toBe(7);
    expect({ ...a, notes: [], machine: null }).toEqual({ ...b, notes: [], machine: null });
  });
});

describe("exec runner, streaming", () => {
  it("does not keep output it has streamed when asked not to (a guest may print forever)", () => {
    const code = [...movAl(0x41), ...OUT_E9, 0xeb, 0xfc]; // l: out 0xe9, al; jmp l
    let streamed = 0;
    const r = execImage(flatKernel({ code }), {
      maxInsns: 200_001, quantumCycles: 1000, retainOutput: false, onOutput: (c) => (streamed += c.length),
    });
    expect(r.status).toBe(124);
    expect(streamed).toBe(100_000);
    expect(r.stdout.length).toBe(0);
  });
});
