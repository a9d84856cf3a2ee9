/**
 * Catalog entries (device-catalog.ts) for the experiment cards of issue 4: rt-io, block, nic and dsp.
 * Each is a PCI function (our vendor id 0x5654, the ids of its `descriptor`) with one 32-bit memory BAR
 * holding its 32-bit registers (the same layout answers on ports: a board may map either) and INTA as its
 * interrupt pin; the nic also has an MSI capability, and the board's MSI sink receives its messages once
 * a driver enables MSI (PCI 3.0 §6.8.1). Options are the devices' own (RtIoOptions, BlockOptions,
 * NicOptions, DspOptions), checked by the devices, which name a bad one.
 */
import { registerDeviceType, type DeviceContext, type DeviceInstance } from "./device-catalog.ts";
import { PciFunction } from "./pci-function.ts";
import { UNCONNECTED } from "./irq-line.ts";
import { RtIo, descriptor as RT_IO } from "./rt-io.ts";
import { BlockDevice, descriptor as BLOCK } from "./block-device.ts";
import { Nic, descriptor as NIC } from "./nic.ts";
import { Dsp, descriptor as DSP } from "./dsp.ts";
import { Rng } from "../sim/rng.ts";

interface CardDescriptor {
  readonly kind: string;
  readonly description: string;
  readonly registerBytes: number;
  readonly pci: { readonly vendorId: number; readonly deviceId: number; readonly classCode: number };
}

/** A memory BAR is a power of two of at least 4 KiB here (one page, so EPT can map it alone). */
function barSize(registerBytes: number): number {
  let s = 4096;
  while (s < registerBytes) s *= 2;
  return s;
}

function pciFunction(d: CardDescriptor, msi: boolean, onMsi?: (enabled: boolean, address: number, data: number) => void): PciFunction {
  return new PciFunction({
    name: d.kind,
    vendorId: d.pci.vendorId,
    deviceId: d.pci.deviceId,
    classCode: d.pci.classCode,
    bars: [{ kind: "mem32", size: barSize(d.registerBytes) }],
    interruptPin: 1,
    msi: msi ? { vectors: 1 } : undefined,
    onMsiChange: onMsi ? (m) => onMsi(m.enabled, m.address, m.data) : undefined,
  });
}

function card(
  d: CardDescriptor,
  build: (ctx: DeviceContext) => { device: RtIo | BlockDevice | Nic | Dsp; pci: PciFunction },
): void {
  registerDeviceType({
    kind: d.kind,
    description: d.description,
    resources: { ports: d.registerBytes, mmioBytes: d.registerBytes, irqPins: 1 },
    defaults: {},
    pci: { ...d.pci },
    modes: ["exclusive", "emulated", "paravirtual"],
    create(ctx): DeviceInstance {
      const { device, pci } = build(ctx);
      return { kind: d.kind, port: device, mmio: device, pci, device, state: device.state };
    },
  });
}

const rngOf = (ctx: DeviceContext, kind: string) => ctx.rng ?? new Rng(0, kind);
const needDma = (ctx: DeviceContext, kind: string) => {
  if (ctx.dma === undefined) throw new RangeError(`${kind}: needs a DMA port`);
  return ctx.dma;
};

card(RT_IO, (ctx) => {
  const device = new RtIo({ clock: ctx.clock, irq: ctx.irq[0] ?? UNCONNECTED, rng: rngOf(ctx, "rt-io") }, ctx.options);
  return { device, pci: pciFunction(RT_IO, false) };
});

card(BLOCK, (ctx) => {
  const device = new BlockDevice({ clock: ctx.clock, dma: needDma(ctx, "block"), irq: ctx.irq[0] ?? UNCONNECTED }, ctx.options);
  return { device, pci: pciFunction(BLOCK, false) };
});

card(NIC, (ctx) => {
  const device = new Nic(
    { clock: ctx.clock, dma: needDma(ctx, "nic"), irq: ctx.irq[0] ?? UNCONNECTED, msi: ctx.msi, rng: rngOf(ctx, "nic") },
    ctx.options,
  );
  const pci = pciFunction(NIC, true, (enabled, address, data) => (enabled ? device.configureMsi(address, data) : device.disableMsi()));
  return { device, pci };
});

card(DSP, (ctx) => {
  const device = new Dsp({ clock: ctx.clock, dma: needDma(ctx, "dsp"), irq: ctx.irq[0] ?? UNCONNECTED, rng: rngOf(ctx, "dsp") }, ctx.options);
  return { device, pci: pciFunction(DSP, false) };
});

export const EXPERIMENT_CARDS = [RT_IO.kind, BLOCK.kind, NIC.kind, DSP.kind] as const;
