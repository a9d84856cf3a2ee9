/**
 * PCI configuration space access through configuration mechanism #1 (PCI Local Bus Spec 3.0
 * §3.2.2.3.2), the I/O ports 0xCF8-0xCFF of a PC host bridge:
 *   offset 0 (0xCF8) CONFIG_ADDRESS, dword accesses only: bit 31 enable, 23:16 bus, 15:11 device,
 *     10:8 function, 7:2 register; bits 30:24 and 1:0 read 0. Narrower accesses there are not
 *     CONFIG_ADDRESS (a chipset may put other registers at 0xCF9): they read all ones and do nothing,
 *     as in QEMU's pci_host_config_read/write.
 *   offsets 4-7 (0xCFC-0xCFF) CONFIG_DATA: a byte, word or dword access to 0xCFC + k reaches register
 *     (CONFIG_ADDRESS & 0xFC) + k of the addressed function.
 * With bit 31 clear, or for a function nobody added, reads return all ones and writes vanish (the
 * master abort a driver's scan relies on). There is one bus, bus 0 (no bridges), with the host bridge
 * at 00:00.0 by default (Intel 440FX, 8086:1237, class 06 00 00, as QEMU's pc machine). Function 0 of
 * a device with more functions reads header type bit 7 set, so a scan looks for them.
 * Leaves out: configuration mechanism #2, type 1 (bridged) cycles other than as absent functions, and the
 * PCIe enhanced (MMCONFIG) access method.
 */
import { PciFunction } from "./pci-function.ts";
import type { PortAccessSize, PortDevice } from "./port-bus.ts";

export const PCI_CONFIG_PORT = 0xcf8;
export const PCI_CONFIG_PORTS = 8;

/** Intel 82441FX (440FX) host bridge, as QEMU's i440FX-pcihost. */
export function hostBridge(): PciFunction {
  return new PciFunction({ name: "host-bridge", vendorId: 0x8086, deviceId: 0x1237, classCode: 0x060000, revision: 0x02 });
}

/** bus << 8 | device << 3 | function: the routing fields of CONFIG_ADDRESS. */
export function pciBdf(bus: number, device: number, fn: number): number {
  return (bus << 8) | (device << 3) | fn;
}

export interface PciConfigSpaceOptions {
  /** The function at 00:00.0: the default 440FX host bridge, another one, or none (null). */
  hostBridge?: PciFunction | null;
}

export class PciConfigSpace implements PortDevice {
  readonly name = "pci-config";
  readonly maxAccessSize = 4;
  readonly state = { address: 0 };
  private readonly fns = new Map<number, PciFunction>();

  constructor(o: PciConfigSpaceOptions = {}) {
    const hb = o.hostBridge === undefined ? hostBridge() : o.hostBridge;
    if (hb) this.add(0, 0, hb);
  }

  /** Put `f` at bus 0, `device` 0-31, function 0-7. */
  add(device: number, fn: number, f: PciFunction): void {
    if (!Number.isInteger(device) || device < 0 || device > 31 || !Number.isInteger(fn) || fn < 0 || fn > 7) {
      throw new RangeError(`pci: ${f.name}: 00:${device}.${fn} is not a device 0-31, function 0-7`);
    }
    const bdf = pciBdf(0, device, fn);
    const taken = this.fns.get(bdf);
    if (taken) throw new RangeError(`pci: ${f.name}: 00:${hex2(device)}.${fn} is taken by ${taken.name}`);
    this.fns.set(bdf, f);
    const f0 = this.fns.get(pciBdf(0, device, 0));
    if (f0) f0.setMultiFunction([1, 2, 3, 4, 5, 6, 7].some((k) => this.fns.has(pciBdf(0, device, k))));
  }

  /** The function at bus 0 `device`.`fn`, if any. */
  functionAt(device: number, fn: number): PciFunction | undefined {
    return this.fns.get(pciBdf(0, device, fn));
  }

  /** Every function with its bus/device/function, in BDF order (what a scan finds). */
  list(): { bus: number; device: number; fn: number; function: PciFunction }[] {
    return [...this.fns.entries()].sort((a, b) => a[0] - b[0])
      .map(([bdf, f]) => ({ bus: bdf >> 8, device: (bdf >> 3) & 31, fn: bdf & 7, function: f }));
  }

  portRead(offset: number, size: PortAccessSize): number {
    const ones = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    if (offset < 4) return offset === 0 && size === 4 ? this.state.address : ones;
    const f = this.target();
    return f ? f.configRead((this.state.address & 0xfc) + offset - 4, size) : ones;
  }

  portWrite(offset: number, size: PortAccessSize, value: number): void {
    if (offset < 4) {
      if (offset === 0 && size === 4) this.state.address = (value & 0x80fffffc) >>> 0;
      return;
    }
    this.target()?.configWrite((this.state.address & 0xfc) + offset - 4, size, value);
  }

  private target(): PciFunction | undefined {
    const a = this.state.address;
    if (!(a & 0x80000000)) return undefined;
    return this.fns.get((a >>> 8) & 0xffff);
  }
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, "0");
}
