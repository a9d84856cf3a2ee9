/**
 * The bare-metal board of `vmxsim exec`: one core, RAM, and the debug devices at the ports QEMU and
 * Bochs users expect: debugcon at 0xE9 (QEMU `-debugcon`), isa-debug-exit at 0xF4-0xF7 (QEMU
 * `-device isa-debug-exit,iobase=0xf4,iosize=0x04`), POST-code ports at 0x80 and 0x190. The debug-exit
 * device is wired to the core's requestExit, so the run stops after the OUT that wrote it.
 *
 * The PC chipset of pc-platform.ts is there too (IOAPIC, PIT, HPET, COM1), and a local APIC per core.
 */
import { Machine, type MachineOptions } from "../cpu/machine.ts";
import { Debugcon } from "../devices/debugcon.ts";
import { IsaDebugExit } from "../devices/isa-debug-exit.ts";
import { PortBus } from "../devices/port-bus.ts";
import { PostCodePort } from "../devices/post-code-port.ts";
import { ByteLog } from "./byte-log.ts";
import { addPcPlatform, type PcPlatform } from "./pc-platform.ts";

export const DEBUGCON_PORT = 0xe9;
export const DEBUG_EXIT_PORT = 0xf4;
export const DEBUG_EXIT_PORTS = 4;
export const POST_PORTS = [0x80, 0x190] as const;

export interface BareMetalBoard {
  machine: Machine;
  /** Everything written to debugcon. */
  debugcon: ByteLog;
  /** Everything COM1 transmitted. */
  serial: ByteLog;
  /** The PC chipset devices (pc-platform.ts): IOAPIC, PIT, HPET, COM1. */
  platform: PcPlatform;
  /** Set when the guest wrote isa-debug-exit: the raw value and the resulting exit status. */
  debugExit?: { value: number; status: number };
  /** POST codes in the order written, with the port each went to. */
  postCodes: { port: number; code: number }[];
}

/**
 * Build the board. `makeMachine` lets a variant board bring its own Machine (the ROM board's serves the
 * ROM alias below 4 GiB); the ports are mapped on whatever port bus it was given.
 */
export function buildBareMetalBoard(
  ramBytes: number,
  makeMachine: (opts: MachineOptions) => Machine = (opts) => new Machine(opts),
  machineOptions: Omit<MachineOptions, "ramBytes" | "ports"> = {},
): BareMetalBoard {
  const ports = new PortBus();
  const machine = makeMachine({ ...machineOptions, ramBytes, ports });
  const serial = new ByteLog();
  const board: BareMetalBoard = {
    machine, debugcon: new ByteLog(), serial, postCodes: [], platform: addPcPlatform(machine, (b) => serial.push(b)),
  };
  ports.map(DEBUGCON_PORT, 1, new Debugcon((b) => board.debugcon.push(b)));
  ports.map(
    DEBUG_EXIT_PORT,
    DEBUG_EXIT_PORTS,
    new IsaDebugExit((status, value) => {
      // The first write decides, as QEMU exits on it; later ones in the same instruction cannot happen.
      board.debugExit ??= { value, status };
      machine.requestExit(status);
    }),
  );
  for (const port of POST_PORTS) {
    ports.map(port, 1, new PostCodePort((code) => board.postCodes.push({ port, code })));
  }
  return board;
}
