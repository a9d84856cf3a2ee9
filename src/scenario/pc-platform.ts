/**
 * The PC chipset around the cores (issue 4, "Interrupt controllers" and "Devices"): where the standard
 * devices sit and how their interrupts reach the local APICs, as on an ICH-era PC with the APIC enabled
 * (Intel MultiProcessor Specification 1.4 ch. 3 and ACPI MADT conventions; ICH7 datasheet for the HPET):
 *
 *   IOAPIC   MMIO FEC00000H, 24 pins, messages on the machine's APIC bus; EOIs from the local APICs clear
 *            remote IRR (SDM Vol. 3A 10.8.5)
 *   PIT      ports 40H-43H, channel 0 -> IOAPIC pin 2 (the ISA IRQ0 -> GSI 2 interrupt source override
 *            every PC firmware declares); port 61H (speaker gate, refresh toggle)
 *   HPET     MMIO FED00000H, 3 timers; each timer's line goes to the pin its Tn_INT_ROUTE_CNF names;
 *            legacy replacement sends timer 0 to pin 2 and timer 1 to pin 8 and disconnects the PIT
 *   COM1     16550A at 3F8H-3FFH, IRQ4 -> pin 4; what it transmits is collected (and streamed by exec)
 *   MSI      writes of devices to FEExxxxxH are decoded into APIC messages (SDM 10.11)
 *   PCI      configuration mechanism #1 at CF8H/CFCH (PCI 3.0 §3.2.2.3.2): the host bridge at 00:00.0 and
 *            the experiment cards rt-io, block, nic, dsp at 00:01.0-00:04.0, each with one memory BAR
 *            (assigned at FEB00000H + 4 KiB x n, as firmware would; a guest may move it: the MMIO
 *            mapping follows), INTA wired to IOAPIC pin 16 + n (PCI interrupts are level-triggered,
 *            active low on real boards; the IOAPIC entry's polarity bit decides), bus mastering
 *            through the machine's DMA port. The cards stay idle until a driver enables them.
 *
 * ISA interrupts are edge-triggered, active high; the IOAPIC's redirection entries decide (as the
 * firmware's MADT tells an OS). Leaves out: the 8259 PICs (ExtINT), the RTC/CMOS, the keyboard controller.
 */
import type { Machine } from "../cpu/machine.ts";
import { IoApic } from "../devices/io-apic.ts";
import { Pit8254, PitPort61 } from "../devices/pit-8254.ts";
import { Hpet } from "../devices/hpet.ts";
import { Uart16550 } from "../devices/uart-16550.ts";
import { MsiRouter } from "../devices/msi.ts";
import type { IrqLine } from "../devices/irq-line.ts";
import { PCI_CONFIG_PORT, PCI_CONFIG_PORTS, PciConfigSpace } from "../devices/pci-config.ts";
import { deviceType, type DeviceInstance } from "../devices/device-catalog.ts";
import { EXPERIMENT_CARDS } from "../devices/experiment-cards.ts";
import { Rng } from "../sim/rng.ts";

export const IOAPIC_BASE = 0xfec00000;
export const HPET_BASE = 0xfed00000;
export const COM1_PORT = 0x3f8;
export const COM1_PIN = 4;
export const PIT_PIN = 2;

export const CARD_BAR_BASE = 0xfeb00000;
export const CARD_FIRST_PIN = 16;

export interface PcPlatform {
  ioapic: IoApic;
  pit: Pit8254;
  hpet: Hpet;
  com1: Uart16550;
  msi: MsiRouter;
  pci: PciConfigSpace;
  /** The experiment cards by kind (rt-io, block, nic, dsp). */
  cards: Record<string, DeviceInstance>;
}

/** An interrupt line whose IOAPIC pin can change (HPET routing) or be cut (the PIT under legacy
 * replacement). It remembers its level, so a reconnection carries it over. */
class RoutedLine implements IrqLine {
  private level = false;
  constructor(private readonly ioapic: IoApic, private pin: number) {}

  set(level: boolean): void {
    this.level = level;
    if (this.pin >= 0) this.ioapic.pin(this.pin).set(level);
  }

  route(pin: number): void {
    if (pin === this.pin) return;
    if (this.pin >= 0 && this.level) this.ioapic.pin(this.pin).set(false);
    this.pin = pin;
    if (pin >= 0 && this.level) this.ioapic.pin(pin).set(true);
  }
}

/** Put the PC chipset devices on `machine` (which must have its local APICs). `onSerial` receives each
 * byte COM1 transmits, at the tick its stop bit ends; `seed` seeds the cards' random streams. */
export function addPcPlatform(machine: Machine, onSerial: (byte: number) => void, seed = 0): PcPlatform {
  const clock = machine.clock;
  const ioapic = new IoApic({ sink: machine.apicBus });
  machine.apicBus.onEoi((vector) => ioapic.eoi(vector));
  machine.mmio.map(IOAPIC_BASE, 0x20, ioapic);

  const pitLine = new RoutedLine(ioapic, PIT_PIN);
  const pit = new Pit8254({ clock, irq: pitLine });
  machine.ports.map(0x40, 4, pit);
  machine.ports.map(0x61, 1, new PitPort61(pit));

  const hpetLines = [new RoutedLine(ioapic, -1), new RoutedLine(ioapic, -1), new RoutedLine(ioapic, -1)];
  const hpet = new Hpet({
    clock,
    irqs: hpetLines,
    onRouteChange: (timer, pin) => hpetLines[timer]?.route(pin),
    onLegacyReplacement: (enabled) => pitLine.route(enabled ? -1 : PIT_PIN),
  });
  machine.mmio.map(HPET_BASE, 0x400, hpet);

  const com1 = new Uart16550({ clock, irq: ioapic.pin(COM1_PIN), sink: onSerial, name: "com1" });
  machine.ports.map(COM1_PORT, 8, com1);

  const msi = new MsiRouter(machine.apicBus);
  const pci = new PciConfigSpace();
  machine.ports.map(PCI_CONFIG_PORT, PCI_CONFIG_PORTS, pci);
  const cards: Record<string, DeviceInstance> = {};
  const dma = machine.dma();
  EXPERIMENT_CARDS.forEach((kind, n) => {
    const inst = deviceType(kind).create({
      clock, irq: [ioapic.pin(CARD_FIRST_PIN + n)], dma, msi, rng: new Rng(seed, `pci.${kind}`), options: {},
    });
    const f = inst.pci!;
    const mmio = inst.mmio!;
    f.listenToBars((_bar, address) => {
      machine.mmio.unmap(mmio);
      if (address !== null) machine.mmio.map(address, f.barBytes(0), mmio);
    });
    pci.add(n + 1, 0, f);
    // What firmware leaves: BAR 0 assigned, memory decoding and bus mastering on, the interrupt line set.
    f.configWrite(0x10, 4, CARD_BAR_BASE + 0x1000 * n);
    f.configWrite(0x3c, 1, CARD_FIRST_PIN + n);
    f.configWrite(0x04, 2, 0x0006);
    cards[kind] = inst;
  });
  return { ioapic, pit, hpet, com1, msi, pci, cards };
}
