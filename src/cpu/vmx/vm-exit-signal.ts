/**
 * A VM exit raised while the core executes in VMX non-root operation (SDM Vol. 3C chapter 25, "VMX
 * Non-Root Operation"): an instruction that exits (25.1), an exception the exception bitmap selects, an
 * EPT violation or misconfiguration, a triple fault (25.2). The code that detects the cause throws a
 * VmExitSignal carrying the exit information of 27.2 it knows (reason, qualification, guest-linear and
 * guest-physical addresses, interruption information); the core catches it at the instruction (or event)
 * boundary, adds what only it knows (instruction length, IDT-vectoring information when the exit
 * interrupted the delivery of an event, 27.2.4) and performs the VM exit (vm-exit.ts).
 *
 * It is not an Error: like CpuFault it is control flow, and no stack trace is built.
 */

export class VmExitSignal {
  /** Bits 31:0 of the guest-physical address (EPT violations and misconfigurations) and bits 63:32. */
  gpaLo = 0;
  gpaHi = 0;
  guestLinear = 0;
  /** VM-exit interruption information and error code (27.2.2), for exits caused by events. */
  interruptionInfo = 0;
  interruptionErrorCode = 0;
  /** IDT-vectoring information (27.2.4): set when the exit happened during the delivery of this event. */
  idtVectoringInfo = 0;
  idtVectoringErrorCode = 0;
  /** VM-exit instruction-information field (27.2.5); 0 where it is undefined. */
  instructionInfo = 0;
  /** The exiting instruction's length (set by the core), 0 for exits not caused by an instruction. */
  instructionLength = 0;

  constructor(
    /** The basic exit reason (exit-reasons.ts). */
    readonly reason: number,
    public qualification = 0,
  ) {}
}

/** Throw a VM exit (the caller has decided the current instruction or event exits). */
export function vmExit(reason: number, qualification = 0): never {
  throw new VmExitSignal(reason, qualification);
}
