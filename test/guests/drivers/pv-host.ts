/**
 * A test stand-in for the VMM's paravirtual side (the real one is src/vmm), after the ABI in src/vmm/abi.ts:
 * the guest runs in VMX non-root operation on a flat host (test/vmm/flat-host.ts, no EPT: guest-physical =
 * host-physical); VMCALL exits (reason 18, SDM Vol. 3C Table C-1) are answered here: HC_PV_SETUP records
 * the ring, HC_PV_NOTIFY takes every request between the taken index and AVAIL, and each device model below
 * completes requests (STATUS, RESULT and outputs), then advances USED over the completed prefix and raises
 * the device's vector (a fixed self-IPI on the physical local APIC, delivered through the guest's IDT since
 * external-interrupt exiting is off). Requests that wait (rt-io WAIT, nic RX) complete later, out of order
 * with respect to later requests, as the drivers expect.
 */
import { crc32 } from "node:zlib";
import { flatVmxHost, GDT, PD } from "../../vmm/flat-host.ts";
import { VmcsField as F } from "../../../src/cpu/vmx/vmcs-fields.ts";
import { writeControls, writeFlatGuest, writeHostState } from "../../../src/vmm/vmcs-setup.ts";
import { Reg } from "../../../src/cpu/registers.ts";
import type { Machine } from "../../../src/cpu/machine.ts";
import type { GuestDevice, GuestEnv, GuestImage } from "../../../src/guests/guest-env.ts";
import {
  BOOT_STACK_TOP, DEVICE_VECTOR_BASE, HC_ERROR, Hypercall, MULTIBOOT_BOOT_MAGIC, PV_RING_HEADER_BYTES, PV_SLOT_BYTES,
  PV_STATUS_ERROR, PV_STATUS_OK, PvError, PvOp, PvRingHeader, PvSlot,
} from "../../../src/vmm/abi.ts";

export interface PvRequest {
  index: number;
  op: number;
  addr: number;
  len: number;
  arg0: number;
  /** Tick the VMM took it (at the doorbell). */
  tick: number;
}

type Completion = { status: number; result: number; arg0?: number; arg1?: number };

export interface PvDeviceModel {
  type: GuestDevice["type"];
  /** Complete now (a Completion), later (a tick and a function giving the Completion then), or wait for
   * `complete()` (null). */
  take(req: PvRequest, host: PvHost): Completion | { at: number; done: () => Completion } | null;
}

interface Ring {
  gpa: number;
  entries: number;
  taken: number;
  used: number;
  done: Map<number, Completion>;
  waiting: PvRequest[];
}

export class PvHost {
  readonly m: Machine;
  readonly dv: DataView;
  readonly env: GuestEnv;
  readonly rings: (Ring | null)[];
  /** Hypercalls by number, and every exit reason seen. */
  readonly hypercalls: number[] = [];
  readonly exitReasons: number[] = [];
  readonly requests: PvRequest[][];
  /** Refuse HC_PV_SETUP (a VMM that does not serve the device paravirtually). */
  refuseSetup = false;

  constructor(readonly models: PvDeviceModel[], opts: { ramMiB?: number } = {}) {
    const { m, api, dv } = flatVmxHost("skylake", (core, api) => this.onExit(core.regs, api));
    this.m = m;
    this.dv = dv;
    this.rings = models.map(() => null);
    this.requests = models.map(() => []);
    this.env = {
      vcpus: 1, memoryBytes: (opts.ramMiB ?? 16) << 20, tscHz: m.profile!.tscHz, apicTimerHz: m.profile!.apicTimerHz,
      devices: models.map((d, i) => ({ index: i, name: `${d.type}${i}`, type: d.type, mode: "paravirtual", vector: DEVICE_VECTOR_BASE + i, mmioGpa: null, port: null })),
    };
    this.api = api;
  }

  private readonly api: ReturnType<typeof flatVmxHost>["api"];

  /** Load and launch the guest (abi boot state: EAX = magic, ESI = 0, ESP = BOOT_STACK_TOP, IF = 0). */
  launch(img: GuestImage): void {
    const { m, api } = this;
    m.ram.set(img.bytes, img.loadGpa);
    writeControls(api, {});
    writeHostState(api, 0, 0x9000);
    writeFlatGuest(api, { rip: img.entry, rsp: BOOT_STACK_TOP, cr3: PD, gdt: [GDT, 31] });
    m.core.regs[Reg.EAX] = MULTIBOOT_BOOT_MAGIC;
    m.core.regs[Reg.ESI] = 0;
    const r = api.vmlaunch();
    if (!r.ok) throw new Error(`VMLAUNCH failed: ${JSON.stringify(r)}`);
  }

  private onExit(regs: { [r: number]: number }, api: PvHost["api"]): void {
    const reason = api.vmread(F.EXIT_REASON) & 0xffff;
    this.exitReasons.push(reason);
    if (reason !== 18) {
      this.m.core.shutdown = true; // not expected: stop the run (the test sees the reason)
      return;
    }
    const nr = regs[Reg.EAX] >>> 0, ebx = regs[Reg.EBX] >>> 0, ecx = regs[Reg.ECX] >>> 0, edx = regs[Reg.EDX] >>> 0;
    this.hypercalls.push(nr);
    let result = HC_ERROR;
    if (nr === Hypercall.PV_SETUP && !this.refuseSetup && ebx < this.models.length && ecx % 64 === 0 && edx >= 1 && edx <= 256 && (edx & (edx - 1)) === 0) {
      this.rings[ebx] = { gpa: ecx, entries: edx, taken: 0, used: 0, done: new Map(), waiting: [] };
      this.dv.setUint32(ecx + PvRingHeader.ENTRIES, edx, true);
      result = 0;
    } else if (nr === Hypercall.PV_NOTIFY && this.rings[ebx]) {
      this.notify(ebx);
      result = 0;
    }
    regs[Reg.EAX] = result >>> 0;
    api.vmwrite(F.GUEST_RIP, api.vmread(F.GUEST_RIP) + api.vmread(F.VM_EXIT_INSTRUCTION_LENGTH));
    const r = api.vmresume();
    if (!r.ok) throw new Error(`VMRESUME failed: ${JSON.stringify(r)}`);
  }

  slot(dev: number, index: number): number {
    const ring = this.rings[dev]!;
    return ring.gpa + PV_RING_HEADER_BYTES + (index % ring.entries) * PV_SLOT_BYTES;
  }

  private notify(dev: number): void {
    const ring = this.rings[dev]!;
    const avail = this.dv.getUint32(ring.gpa + PvRingHeader.AVAIL, true);
    while (ring.taken !== avail) {
      const s = this.slot(dev, ring.taken);
      const req: PvRequest = {
        index: ring.taken, op: this.dv.getUint32(s + PvSlot.OP, true), addr: this.dv.getUint32(s + PvSlot.ADDR, true),
        len: this.dv.getUint32(s + PvSlot.LEN, true), arg0: this.dv.getUint32(s + PvSlot.ARG0, true), tick: this.m.clock.now(),
      };
      ring.taken = (ring.taken + 1) >>> 0;
      this.requests[dev].push(req);
      const c = this.models[dev].take(req, this);
      if (c === null) ring.waiting.push(req);
      else if ("at" in c) this.m.clock.at(c.at, () => this.complete(dev, req, c.done()));
      else this.complete(dev, req, c);
    }
  }

  /** Complete `req` (write STATUS/RESULT/ARG0/ARG1), advance USED over the completed prefix, raise. */
  complete(dev: number, req: PvRequest, c: Completion): void {
    const ring = this.rings[dev]!;
    const s = this.slot(dev, req.index);
    this.dv.setUint32(s + PvSlot.RESULT, c.result >>> 0, true);
    if (c.arg0 !== undefined) this.dv.setUint32(s + PvSlot.ARG0, c.arg0 >>> 0, true);
    if (c.arg1 !== undefined) this.dv.setUint32(s + PvSlot.ARG1, c.arg1 >>> 0, true);
    this.dv.setUint32(s + PvSlot.STATUS, c.status >>> 0, true);
    ring.waiting = ring.waiting.filter((w) => w !== req);
    ring.done.set(req.index, c);
    while (ring.done.has(ring.used)) {
      ring.done.delete(ring.used);
      ring.used = (ring.used + 1) >>> 0;
    }
    this.dv.setUint32(ring.gpa + PvRingHeader.USED, ring.used, true);
    this.m.lapics[0].writeIcr64(0x40000 | this.env.devices[dev].vector, 0); // self IPI, fixed
  }

  /** The oldest waiting request of `dev` with `op`, if any. */
  waiting(dev: number, op: number): PvRequest | undefined {
    return this.rings[dev]?.waiting.find((w) => w.op === op);
  }
}

export const OK = (result = 0, more: Partial<Completion> = {}): Completion => ({ status: PV_STATUS_OK, result, ...more });
export const ERR = (code: number): Completion => ({ status: PV_STATUS_ERROR | (code << 8), result: 0 });

/** block: READ/WRITE against `disk` (512-byte sectors), FLUSH; completion `delayTicks` after the doorbell. */
export function pvBlock(disk: Uint8Array, delayTicks: number): PvDeviceModel {
  return {
    type: "block",
    take(req, h) {
      return {
        at: req.tick + delayTicks,
        done: () => {
          if (req.op === PvOp.FLUSH) return OK();
          if (req.op !== PvOp.READ && req.op !== PvOp.WRITE) return ERR(PvError.BAD_OP);
          const from = req.arg0 * 512;
          if (req.len % 512 !== 0 || from + req.len > disk.length) return ERR(PvError.BAD_RANGE);
          if (req.op === PvOp.READ) h.m.ram.set(disk.subarray(from, from + req.len), req.addr);
          else disk.set(h.m.ram.subarray(req.addr, req.addr + req.len), from);
          return OK(req.len);
        },
      };
    },
  };
}

/** dsp: JOB with a CRC32 descriptor (dsp.ts layout), computed with zlib's crc32. */
export function pvDspCrc(delayTicks: number): PvDeviceModel {
  let jobId = 0;
  return {
    type: "dsp",
    take(req, h) {
      return {
        at: req.tick + delayTicks,
        done: () => {
          if (req.op !== PvOp.JOB) return ERR(PvError.BAD_OP);
          const d = req.addr;
          const input = h.m.ram.slice(h.dv.getUint32(d, true), h.dv.getUint32(d, true) + h.dv.getUint32(d + 4, true));
          const crc = crc32(input);
          h.dv.setUint32(h.dv.getUint32(d + 8, true), crc, true);
          h.dv.setUint32(d + 20, crc, true);
          h.dv.setUint32(d + 24, 1, true);
          h.dv.setUint32(d + 28, ++jobId, true);
          return OK(crc);
        },
      };
    },
  };
}
