/**
 * The shared console: a physical UART driven by the VMM (uart-console.ts) with each partition attached
 * emulated (uart-emulated.ts, a 16550 register file at ports) or paravirtual. Paravirtual request
 * (abi.ts PvOp):
 * - WRITE: LEN bytes at ADDR to the console, completed as soon as the VMM has copied them into its console
 *   FIFO (the UART drains it at line rate afterwards). RESULT = LEN. LEN above PV_WRITE_MAX is
 *   PvError.BAD_RANGE; a buffer outside partition RAM is PvError.DMA (and VdevHost.fault "dma").
 * transcript() returns what each partition wrote, by partition name (bytes as Latin-1 characters).
 * Costs: vdev.command per WRITE (besides the ring's costs); the copy is charged per line by readGuest.
 * No Intel SDM section applies. Leaves out: console input to the partitions.
 */
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import { PvError, PvOp } from "../abi.ts";
import type { BackendHost, SharedDevice, SharedDeviceReport, SharedMode } from "./backend-host.ts";
import { PvView } from "./pv-view.ts";
import { UartConsole } from "./uart-console.ts";
import { UartEmulated } from "./uart-emulated.ts";
import type { VdevHost, VirtualDevice } from "./vdev.ts";
import { VmmTurn } from "./vmm-turn.ts";

const OP_WRITE = PvOp.WRITE;
/** Largest console WRITE request, bytes. */
export const PV_WRITE_MAX = 4096;

export function createSharedUart(physical: DeviceInstance, host: BackendHost): SharedDevice {
  const turn = new VmmTurn();
  const console = new UartConsole(physical, host, turn);
  return {
    type: "uart",
    onInterrupt: () => console.onInterrupt(),
    attach(vhost: VdevHost, mode: SharedMode): VirtualDevice {
      console.addPartition(vhost.partition);
      if (mode === "emulated") return new UartEmulated(vhost, turn, console);
      return new PvView(vhost, turn, (req, view) => {
        const h = view.host;
        if (req.op !== OP_WRITE) return view.ring.fail(req, PvError.BAD_OP);
        if (req.len > PV_WRITE_MAX) return view.ring.fail(req, PvError.BAD_RANGE);
        if (req.len === 0) return view.ring.complete(req, 0);
        const bytes = h.readGuest(req.addr, req.len);
        if (bytes === null) {
          h.fault("dma", `uart: WRITE buffer 0x${req.addr.toString(16)} + ${req.len} bytes is outside partition RAM`);
          return view.ring.fail(req, PvError.DMA);
        }
        h.charge("vdev.command");
        console.put(h.partition, bytes);
        view.ring.complete(req, req.len);
      });
    },
    report(): SharedDeviceReport {
      return {
        type: "uart", physicalOps: console.physicalOps, interrupts: console.interrupts, maxQueued: console.maxQueued,
        bounced: 0, counters: { consoleDropped: console.dropped, bytesSent: console.bytesSent },
      };
    },
    transcript: () => console.transcript(),
  };
}
