/**
 * Harness for the kvm-unit-tests-style VMX case tables (issue 5, "Tests"): a Machine with a CPU profile whose
 * core 0 runs a small flat host written in x86 with the project's assembler, and a guest. The VMX instructions
 * under test are real opcodes executed by that host (VMXON, VMCLEAR, VMPTRLD, VMREAD, VMWRITE, VMLAUNCH,
 * VMRESUME, ...), so the path through the decoder, the executors (src/cpu/execute/vmx.ts) and the core's
 * exit machinery is what the tables exercise. Bulk VMCS set-up goes through VmxApi (the same implementation
 * the opcodes use, as the embedded VMM uses it; src/vmm/vmcs-setup.ts), which is what kvm-unit-tests'
 * init_vmcs does with VMWRITEs.
 *
 * The host (what a hypervisor's boot code has done; SDM Vol. 3C 23.7, 23.8): flat 32-bit protected mode,
 * ring-0 code/data 08H/10H, ring-3 code/data 20H/28H, a busy 32-bit TSS 18H (ESP0 for faults from ring 3),
 * paging with an identity map of 4-MByte pages, CR4.VMXE and IA32_FEATURE_CONTROL as the case asks. Its IDT
 * sends vectors 0-31 to stubs that record the vector, the error code and the faulting EIP and halt, so a #UD
 * or #GP of a VMX instruction is observed as on hardware. A "real" boot leaves the core in real-address mode
 * with an IVT doing the same.
 *
 * The exit path (HOST_RIP = EXIT_ENTRY): x86 code that saves the guest's general registers, VMREADs the exit
 * fields of EXIT_FIELDS (SDM 27.2) plus a few guest-state fields into a record, reads the TSC, and halts; the
 * test reads the record and may resume (RESUME_ENTRY: VMRESUME; SKIP_ENTRY: GUEST_RIP += instruction length,
 * then VMRESUME), as kvm-unit-tests' vmx_run / exit handlers do. The guest's IDT (vectors 0-255) records the
 * vector, error code and return EIP of each event it receives and executes VMCALL, so an event that reaches
 * the guest shows up as exit reason 18 with GEVT_* filled in.
 *
 * Leaves out: more than one core, IA-32e (the model has none), EPT and the APIC-access page (other people's
 * tests).
 */
import { Machine } from "../../../src/cpu/machine.ts";
import type { Core } from "../../../src/cpu/core.ts";
import { getProfile } from "../../../src/cpu/profiles/index.ts";
import { VmxApi } from "../../../src/cpu/vmx/vmx-api.ts";
import { VmcsField as F } from "../../../src/cpu/vmx/vmcs-fields.ts";
import { writeControls, writeFlatGuest, writeHostState, type ControlRequest } from "../../../src/vmm/vmcs-setup.ts";
import { writeMsr } from "../../../src/cpu/msr.ts";
import { setSegment } from "../../../src/cpu/segments.ts";
import { Asm, eax, ecx, edx, ebx, esp, ebp, esi, edi, ds, dword, type AsmImage, type RegOperand } from "../../../src/guests/asm/index.ts";

// ---- memory layout (physical = linear: identity paging) ----
export const GDT = 0x1000;
export const GDT_LIMIT = 0x2f;
export const PD = 0x2000;
export const VMXON_REGION = 0x3000;
export const VMCS_REGION = 0x4000;
export const TSS = 0x5000;
export const VMCS2_REGION = 0x6000;
export const HOST_IDT = 0x7000;
/** Ring-0 stack for faults from ring 3 (TSS.ESP0) and the host's stack (HOST_RSP). */
export const HOST_STACK0 = 0x8800;
export const HOST_STACK_TOP = 0x9000;
export const IO_BITMAP_A = 0xa000;
export const IO_BITMAP_B = 0xb000;
export const MSR_BITMAP = 0xc000;
/** MSR-load/-store lists (16 bytes an entry). */
export const MSR_AREA = 0xd000;
export const RES = 0xe000;
export const HOST_STUBS = 0x0f000;
export const HOST_CODE = 0x10000;
export const USER_STACK = 0x1f000;
export const GUEST_CODE = 0x20000;
export const GUEST_STACK_TOP = 0x2f000;
export const GUEST_IDT = 0x30000;
export const GUEST_STUBS = 0x31000;
/** Data the guest may use freely. */
export const GUEST_DATA = 0x38000;
/** A page directory for guests that need a not-present page (PD entry 300H, linear C0000000H, is absent). */
export const GUEST_PD = 0x39000;
export const GUEST_UNMAPPED = 0xc0000000;
export const RAM_BYTES = 2 << 20;

// ---- results area ----
export const HFAULT_VEC = RES + 0x00;
export const HFAULT_ERR = RES + 0x04;
export const HFAULT_EIP = RES + 0x08;
/** General result slots for host code (slot(i) = SLOTS + 4i). */
export const SLOTS = RES + 0x100;
/** Guest EAX..EDI at the last exit (ESP's slot unused), restored by RESUME_ENTRY. */
export const GREGS = RES + 0x200;
export const EXIT_COUNT = RES + 0x240;
export const LAUNCH_FLAGS = RES + 0x244;
export const LAUNCH_ERR = RES + 0x248;
export const EXIT_HOST_FLAGS = RES + 0x24c;
export const RESUME_FLAGS = RES + 0x250;
export const RESUME_ERR = RES + 0x254;
export const EXIT_RECS = RES + 0x400;
const REC_BYTES = 0x80;
const RECS = 16;
/** Events the guest's IDT received: count, last vector, error code (-1: none) and saved EIP. */
export const GEVT_COUNT = RES + 0xc00;
export const GEVT_VEC = RES + 0xc04;
export const GEVT_ERR = RES + 0xc08;
export const GEVT_EIP = RES + 0xc0c;

export const slot = (i: number): number => SLOTS + 4 * i;

// ---- selectors ----
export const KCODE = 0x08, KDATA = 0x10, TSS_SEL = 0x18, UCODE = 0x23, UDATA = 0x2b;

/** Vectors whose exceptions push an error code in protected mode (SDM Vol. 3A Table 6-1). */
export const ERROR_CODE_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17]);

/** The exit fields each record holds, in order (SDM 27.2; the guest-state fields of 27.3). */
export const EXIT_FIELDS = {
  reason: F.EXIT_REASON,
  qualification: F.EXIT_QUALIFICATION,
  guestLinear: F.GUEST_LINEAR_ADDRESS,
  intrInfo: F.VM_EXIT_INTERRUPTION_INFORMATION,
  intrError: F.VM_EXIT_INTERRUPTION_ERROR_CODE,
  idtInfo: F.IDT_VECTORING_INFORMATION,
  idtError: F.IDT_VECTORING_ERROR_CODE,
  length: F.VM_EXIT_INSTRUCTION_LENGTH,
  insnInfo: F.VM_EXIT_INSTRUCTION_INFORMATION,
  rip: F.GUEST_RIP,
  rsp: F.GUEST_RSP,
  rflags: F.GUEST_RFLAGS,
  cr0: F.GUEST_CR0,
  cr3: F.GUEST_CR3,
  cr4: F.GUEST_CR4,
  interruptibility: F.GUEST_INTERRUPTIBILITY_STATE,
  activity: F.GUEST_ACTIVITY_STATE,
  preemptionTimer: F.VMX_PREEMPTION_TIMER_VALUE,
  sysenterCs: F.GUEST_IA32_SYSENTER_CS,
  dr7: F.GUEST_DR7,
  entryIntrInfo: F.VM_ENTRY_INTERRUPTION_INFORMATION,
} as const;
type ExitFieldName = keyof typeof EXIT_FIELDS;
const FIELD_NAMES = Object.keys(EXIT_FIELDS) as ExitFieldName[];
const TSC_OFF = 4 * FIELD_NAMES.length;

/** One VM exit as the x86 exit handler recorded it (VMREAD of each field), plus the host's TSC at the exit. */
export type ExitRecord = Record<ExitFieldName, number> & { hostTsc: number; regs: GuestRegs };
export interface GuestRegs {
  eax: number; ecx: number; edx: number; ebx: number; ebp: number; esi: number; edi: number;
}

/** GREGS slot of each saved guest register (EAX..EDI order; ESP is in the VMCS). */
const GREG_SLOTS: readonly (readonly [number, keyof GuestRegs])[] = [
  [0, "eax"], [1, "ecx"], [2, "edx"], [3, "ebx"], [5, "ebp"], [6, "esi"], [7, "edi"],
];

export interface BootOptions {
  /** CPU profile id (default skylake). */
  profile?: string;
  /** CR4.VMXE (default true). */
  vmxe?: boolean;
  /** IA32_FEATURE_CONTROL value written at boot (default 5: locked, VMX outside SMX). */
  featureControl?: number;
  /** Boot in real-address mode instead (SDM Vol. 3A 9.1): the host code is 16-bit at REAL_CODE. */
  real?: boolean;
  /** The cache model (default off: the tables check semantics; the costs have their own tests). */
  caches?: boolean;
}

export const REAL_CODE = 0x7c00;
const REAL_STUBS = 0x0600;
const REAL_FAULT = 0x0500;

export interface VmOptions {
  controls?: ControlRequest;
  /** The guest's code, assembled at GUEST_CODE (default: VMCALL). */
  guest?: (a: Asm) => void;
  /** Guest RFLAGS (default 2). */
  rflags?: number;
  /** VMWRITEs after the standard set-up: [field, value] in order (through VmxApi, checked). */
  fields?: readonly (readonly [number, number])[];
  /** Guest page directory (default PD: the host's identity map). */
  guestCr3?: number;
  /** Initial guest general registers. */
  regs?: Partial<GuestRegs>;
}

/** One machine, its booted host and (optionally) a VMCS with a guest. */
export class VmxCase {
  readonly m: Machine;
  readonly c: Core;
  readonly api: VmxApi;
  readonly dv: DataView;
  /** Symbols of the fixed host code (EXIT_ENTRY, RESUME_ENTRY, SKIP_ENTRY, LAUNCH_ENTRY). */
  readonly sym: Record<string, number>;
  guestImage: AsmImage | null = null;
  private nextProgram = HOST_CODE + 0x1000;
  readonly real: boolean;

  constructor(readonly opts: BootOptions = {}) {
    this.m = new Machine({ ramBytes: RAM_BYTES, profile: getProfile(opts.profile ?? "skylake"), caches: opts.caches ?? false });
    this.c = this.m.core;
    this.dv = new DataView(this.m.ram.buffer);
    this.api = new VmxApi(this.c);
    this.real = opts.real ?? false;
    this.sym = {};
    if (this.real) this.bootReal();
    else {
      this.bootProtected();
      Object.assign(this.sym, this.load(fixed("runtime", hostRuntime)).symbols);
      this.load(fixed("guest-stubs", guestStubs));
      this.writeGuestIdt();
    }
  }

  // ---- memory ----
  r32(pa: number): number {
    return this.dv.getUint32(pa, true);
  }
  w32(pa: number, v: number): void {
    this.dv.setUint32(pa, v >>> 0, true);
  }
  slot(i: number): number {
    return this.r32(slot(i));
  }
  /** Write the revision identifier (IA32_VMX_BASIC[30:0]) into a VMXON or VMCS region (SDM 24.2). */
  initRegion(pa: number, revision = this.c.vmx!.revision): void {
    this.w32(pa, revision);
  }
  private load(img: AsmImage): AsmImage {
    this.m.dma().write(img.origin, img.bytes);
    return img;
  }

  // ---- boot ----
  private bootProtected(): void {
    const c = this.c;
    const o = this.opts;
    const gdt: [number, number][] = [
      [0, 0],
      [0x0000ffff, 0x00cf9a00], // 08: ring-0 code
      [0x0000ffff, 0x00cf9200], // 10: ring-0 data
      [((TSS & 0xffff) << 16) | 0x67, (TSS & 0xff000000) | ((TSS >>> 16) & 0xff) | 0x00008b00], // 18: busy TSS
      [0x0000ffff, 0x00cffa00], // 20: ring-3 code
      [0x0000ffff, 0x00cff200], // 28: ring-3 data
    ];
    gdt.forEach(([lo, hi], k) => {
      this.w32(GDT + 8 * k, lo);
      this.w32(GDT + 8 * k + 4, hi);
    });
    this.w32(TSS + 4, HOST_STACK0); // ESP0
    this.w32(TSS + 8, KDATA); // SS0
    for (let k = 0; k < 1024; k++) this.w32(PD + 4 * k, ((k << 22) | 0x87) >>> 0); // P RW U PS
    for (let k = 0; k < 1024; k++) this.w32(GUEST_PD + 4 * k, k === 0x300 ? 0 : ((k << 22) | 0x87) >>> 0);
    this.w32(HFAULT_VEC, 0xffffffff);
    this.w32(GEVT_VEC, 0xffffffff);
    c.resetToFlat32(HOST_CODE);
    c.gdtBase = GDT;
    c.gdtLimit = GDT_LIMIT;
    c.idtBase = HOST_IDT;
    c.idtLimit = 32 * 8 - 1;
    c.trSel = TSS_SEL;
    c.trBase = TSS;
    c.trLimit = 0x67;
    c.trType = 11;
    for (let v = 0; v < 32; v++) this.gate(HOST_IDT, v, HOST_STUBS + 32 * v);
    this.load(fixed("fault-stubs", hostFaultStubs));
    writeMsr(c, 0x3a, [o.featureControl ?? 5, 0]);
    c.cr3 = PD;
    c.cr4 = ((1 << 4) | ((o.vmxe ?? true) ? 1 << 13 : 0)) >>> 0;
    c.cr0 = (c.cr0 | 0x80000021) >>> 0; // PG, NE, PE (IA32_VMX_CR0_FIXED0)
    c.pagingModeChanged();
    c.refreshSegmentChecks();
    c.regs[4] = HOST_STACK_TOP;
  }

  private bootReal(): void {
    const c = this.c;
    // Real-address mode, CS = DS = SS = 0 (SDM Vol. 3A 20.1): the IVT sends vectors 0-31 to stubs that
    // store the vector at 0500H and halt.
    for (let s = 0; s < 6; s++) setSegment(c, s, 0, 0, 0xffff, s === 1 ? 0x9b : 0x93);
    c.regs[4] = 0x7000;
    c.eip = REAL_CODE;
    const a = new Asm({ bits: 16, origin: REAL_STUBS });
    for (let v = 0; v < 32; v++) {
      this.w32(4 * v, ((REAL_STUBS + 16 * v) & 0xffff) >>> 0); // offset, segment 0
      a.org(REAL_STUBS + 16 * v).mov(dword(REAL_FAULT), v).hlt();
    }
    this.load(a.build());
    this.w32(REAL_FAULT, 0xffffffff);
    writeMsr(c, 0x3a, [this.opts.featureControl ?? 5, 0]);
    c.cr4 = (this.opts.vmxe ?? true) ? 1 << 13 : 0;
    c.refreshSegmentChecks();
  }

  /** A 32-bit interrupt gate, DPL 0, selector 08H (SDM Vol. 3A 6.11). */
  private gate(idt: number, v: number, target: number): void {
    this.w32(idt + 8 * v, (KCODE << 16) | (target & 0xffff));
    this.w32(idt + 8 * v + 4, ((target & 0xffff0000) | 0x8e00) >>> 0);
  }

  private writeGuestIdt(): void {
    for (let v = 0; v < 256; v++) this.gate(GUEST_IDT, v, GUEST_STUBS + 64 * v);
  }

  // ---- running host code ----
  /** Run the machine until the host halts (or `cycles` pass). */
  run(cycles = 3_000_000): string {
    return this.m.run(this.m.now + cycles, 2_000_000);
  }

  /** Assemble `code` as a fresh host program (32-bit, or 16-bit in a real boot), run it to its final HLT. */
  host(code: (a: Asm) => void, cycles?: number): AsmImage {
    const origin = this.real ? REAL_CODE : this.nextProgram;
    if (!this.real) this.nextProgram += 0x1000;
    const a = new Asm({ bits: this.real ? 16 : 32, origin });
    code(a);
    const stop = a.here();
    a.hlt().jmp(stop);
    const img = this.load(a.build());
    this.c.eip = origin;
    this.c.halted = false;
    this.run(cycles);
    return img;
  }

  /** The host exception the IDT stubs recorded: vector and error code (-1: none), or null. */
  fault(): { vector: number; errorCode: number; eip: number } | null {
    if (this.real) {
      const v = this.r32(REAL_FAULT);
      return v === 0xffffffff ? null : { vector: v, errorCode: -1, eip: 0 };
    }
    const v = this.r32(HFAULT_VEC);
    if (v === 0xffffffff) return null;
    return { vector: v, errorCode: this.r32(HFAULT_ERR) | 0, eip: this.r32(HFAULT_EIP) };
  }

  // ---- a VM through VmxApi, entered through the opcodes ----
  /** VMXON, VMCLEAR and VMPTRLD of VMCS_REGION through VmxApi (revision ids written first). */
  vmxonAndLoad(vmcs = VMCS_REGION): void {
    this.initRegion(VMXON_REGION);
    expectOk(this.api.vmxon(VMXON_REGION), "VMXON");
    this.initRegion(vmcs);
    expectOk(this.api.vmclear(vmcs), "VMCLEAR");
    expectOk(this.api.vmptrld(vmcs), "VMPTRLD");
  }

  /** Fill the current VMCS: controls (adjusted to the capability MSRs), host state with HOST_RIP = the exit
   * handler, a flat guest at GUEST_CODE with the guest IDT, then `fields`. */
  writeVmcs(o: VmOptions = {}): void {
    const api = this.api;
    writeControls(api, o.controls ?? {});
    writeHostState(api, this.sym.exit_entry, HOST_STACK_TOP);
    writeFlatGuest(api, {
      rip: GUEST_CODE, rsp: GUEST_STACK_TOP, cr3: o.guestCr3 ?? PD, gdt: [GDT, GDT_LIMIT], idt: [GUEST_IDT, 0x7ff],
      rflags: o.rflags ?? 2,
    });
    for (const [f, v] of o.fields ?? []) expectOk(api.vmwrite(f, v), `VMWRITE ${f.toString(16)}`);
    const a = new Asm({ bits: 32, origin: GUEST_CODE });
    (o.guest ?? ((g: Asm) => g.insn("vmcall")))(a);
    this.guestImage = this.load(a.build());
    const regs = o.regs ?? {};
    for (const [k, r] of GREG_SLOTS) this.w32(GREGS + 4 * k, regs[r] ?? 0);
  }

  /** A VM ready to launch: VMXON, VMCS loaded and written. */
  vm(o: VmOptions = {}): this {
    this.vmxonAndLoad();
    this.writeVmcs(o);
    return this;
  }

  /** A guest label's address. */
  g(label: string): number {
    const v = this.guestImage?.symbols[label];
    if (v === undefined) throw new Error(`no guest label ${label}`);
    return v;
  }

  get exitCount(): number {
    return this.r32(EXIT_COUNT);
  }

  /** Record n (0-based) of the exits so far (the last when omitted). */
  exit(n = this.exitCount - 1): ExitRecord {
    if (n < 0) throw new Error("no VM exit happened");
    const base = EXIT_RECS + (n % RECS) * REC_BYTES;
    const rec = {} as ExitRecord;
    FIELD_NAMES.forEach((name, k) => {
      rec[name] = this.r32(base + 4 * k);
    });
    rec.hostTsc = this.r32(base + TSC_OFF + 4) * 4294967296 + this.r32(base + TSC_OFF);
    const r = (k: number) => this.r32(GREGS + 4 * k);
    rec.regs = { eax: r(0), ecx: r(1), edx: r(2), ebx: r(3), ebp: r(5), esi: r(6), edi: r(7) };
    return rec;
  }

  /** Run host code at `entry` (LAUNCH/RESUME/SKIP) until the host halts; the new exit, or the VMfail. */
  private enter(entry: string, cycles?: number): EntryOutcome {
    const before = this.exitCount;
    this.w32(LAUNCH_FLAGS, 0xffffffff);
    this.c.eip = this.sym[entry];
    this.c.halted = false;
    this.run(cycles);
    if (this.exitCount > before) return { kind: "exit", exit: this.exit() };
    const flags = this.r32(LAUNCH_FLAGS);
    if (flags === 0xffffffff) return { kind: "none" };
    return { kind: "vmfail", flags, error: (flags & 0x40) !== 0 ? this.r32(LAUNCH_ERR) : -1 };
  }

  /** VMLAUNCH (x86, at LAUNCH_ENTRY) with the guest registers of GREGS. */
  launch(cycles?: number): EntryOutcome {
    return this.enter("launch_entry", cycles);
  }

  /** VMRESUME (x86), optionally after GUEST_RIP += VM-exit instruction length (x86 VMREAD/VMWRITE). */
  resume(o: { skip?: boolean; cycles?: number } = {}): EntryOutcome {
    return this.enter(o.skip ? "skip_entry" : "resume_entry", o.cycles);
  }

  /** Launch and expect a VM exit; its record. */
  launchExit(cycles?: number): ExitRecord {
    return expectExit(this.launch(cycles));
  }

  resumeExit(o: { skip?: boolean; cycles?: number } = {}): ExitRecord {
    return expectExit(this.resume(o));
  }

  /** The events the guest's IDT received (count, last vector, error code or -1, saved EIP). */
  guestEvent(): { count: number; vector: number; errorCode: number; eip: number } {
    return {
      count: this.r32(GEVT_COUNT), vector: this.r32(GEVT_VEC), errorCode: this.r32(GEVT_ERR) | 0, eip: this.r32(GEVT_EIP),
    };
  }

  /** VMREAD through the API (the same operation as the opcode): for checks after the host halted. */
  read(field: number): number {
    return this.api.vmread(field);
  }
}

export type EntryOutcome =
  | { kind: "exit"; exit: ExitRecord }
  | { kind: "vmfail"; flags: number; error: number }
  | { kind: "none" };

function expectExit(o: EntryOutcome): ExitRecord {
  if (o.kind !== "exit") throw new Error(`expected a VM exit, got ${JSON.stringify(o)}`);
  return o.exit;
}

function expectOk(s: { ok: boolean }, what: string): void {
  if (!s.ok) throw new Error(`${what} failed: ${JSON.stringify(s)}`);
}

// ---- x86 helpers for host code ----

/** VMWRITE field <- value (through EDX/EAX). */
export function hVmwrite(a: Asm, field: number, value: number | string): Asm {
  return a.mov(edx, field).mov(eax, value).insn("vmwrite", edx, eax);
}

/** VMREAD field -> [to] (through EDX/EAX). */
export function hVmread(a: Asm, field: number, to: number): Asm {
  return a.mov(edx, field).insn("vmread", eax, edx).mov(dword(to), eax);
}

/** RFLAGS -> [to]. */
export function hSaveFlags(a: Asm, to: number): Asm {
  return a.pushfd().pop(dword(to));
}

/** RFLAGS <- value. */
export function hSetFlags(a: Asm, value: number): Asm {
  return a.push(value).popfd();
}

/** Switch to ring 3 (flat 20H/28H, stack USER_STACK) and continue at the next instruction (IRETD). */
export function hToRing3(a: Asm): Asm {
  const next = `$ring3_${ring3Count++}`;
  a.push(UDATA).push(USER_STACK).pushfd().push(UCODE).push(next).iretd().label(next);
  return a.mov(eax, UDATA).mov(ds, eax);
}
let ring3Count = 0;

// ---- fixed x86 code (assembled once per test file: the images do not depend on the profile) ----

const images = new Map<string, AsmImage>();
function fixed(name: string, build: () => AsmImage): AsmImage {
  let img = images.get(name);
  if (img === undefined) {
    img = build();
    images.set(name, img);
  }
  return img;
}

/** Host IDT stubs: [HFAULT_VEC] = vector, [HFAULT_ERR] = error code or -1, [HFAULT_EIP] = saved EIP; halt. */
function hostFaultStubs(): AsmImage {
  const a = new Asm({ bits: 32, origin: HOST_STUBS });
  for (let v = 0; v < 32; v++) {
    a.org(HOST_STUBS + 32 * v);
    if (ERROR_CODE_VECTORS.has(v)) a.pop(dword(HFAULT_ERR));
    else a.mov(dword(HFAULT_ERR), 0xffffffff);
    a.mov(dword(HFAULT_VEC), v).pop(dword(HFAULT_EIP));
    const h = a.here();
    a.hlt().jmp(h);
  }
  return a.build();
}

/**
 * The host's VM-entry and VM-exit code (as kvm-unit-tests' vmx_enter_guest and exit_handler do it in x86):
 * launch_entry / resume_entry load the guest GPRs from GREGS and execute VMLAUNCH / VMRESUME; if that falls
 * through (VMfail), RFLAGS and the VM-instruction error go to LAUNCH_FLAGS / LAUNCH_ERR and the host halts.
 * exit_entry (HOST_RIP) saves the guest GPRs, VMREADs EXIT_FIELDS into the next record, stores the TSC and halts.
 */
function hostRuntime(): AsmImage {
  const a = new Asm({ bits: 32, origin: HOST_CODE });
  const gregs: [number, RegOperand][] = [[0, eax], [1, ecx], [2, edx], [3, ebx], [5, ebp], [6, esi], [7, edi]];
  const loadGuestRegs = () => {
    for (const [k, r] of gregs) a.mov(r, dword(GREGS + 4 * k));
  };
  const vmfailTail = () => {
    hSaveFlags(a, LAUNCH_FLAGS);
    a.mov(dword(LAUNCH_ERR), 0xffffffff).jnz("$nz_skip" + tails);
    a.mov(edx, F.VM_INSTRUCTION_ERROR).insn("vmread", eax, edx).mov(dword(LAUNCH_ERR), eax);
    a.label("$nz_skip" + tails++);
    const h = a.here();
    a.hlt().jmp(h);
  };
  let tails = 0;
  a.label("launch_entry");
  loadGuestRegs();
  a.insn("vmlaunch");
  vmfailTail();
  a.label("skip_entry");
  a.mov(edx, F.GUEST_RIP).insn("vmread", eax, edx);
  a.mov(edx, F.VM_EXIT_INSTRUCTION_LENGTH).insn("vmread", ecx, edx);
  a.add(eax, ecx).mov(edx, F.GUEST_RIP).insn("vmwrite", edx, eax);
  a.label("resume_entry");
  loadGuestRegs();
  a.insn("vmresume");
  vmfailTail();
  a.label("exit_entry");
  for (const [k, r] of gregs) a.mov(dword(GREGS + 4 * k), r);
  hSaveFlags(a, EXIT_HOST_FLAGS);
  a.mov(ebx, dword(EXIT_COUNT)).and(ebx, RECS - 1).shl(ebx, 7).add(ebx, EXIT_RECS);
  FIELD_NAMES.forEach((name, k) => {
    a.mov(edx, EXIT_FIELDS[name]).insn("vmread", eax, edx).mov(dword(ebx, 4 * k), eax);
  });
  a.insn("rdtsc").mov(dword(ebx, TSC_OFF), eax).mov(dword(ebx, TSC_OFF + 4), edx);
  a.inc(dword(EXIT_COUNT));
  const h = a.here();
  a.hlt().jmp(h);
  return a.build();
}

/** Guest IDT stubs (vector v at GUEST_STUBS + 64v): record the event, VMCALL, IRETD. */
function guestStubs(): AsmImage {
  const a = new Asm({ bits: 32, origin: GUEST_STUBS });
  for (let v = 0; v < 256; v++) {
    a.org(GUEST_STUBS + 64 * v);
    if (ERROR_CODE_VECTORS.has(v)) a.pop(dword(GEVT_ERR));
    else a.mov(dword(GEVT_ERR), 0xffffffff);
    a.mov(dword(GEVT_VEC), v).push(eax).mov(eax, dword(esp, 4)).mov(dword(GEVT_EIP), eax).pop(eax);
    a.inc(dword(GEVT_COUNT)).insn("vmcall").iretd();
  }
  return a.build();
}
