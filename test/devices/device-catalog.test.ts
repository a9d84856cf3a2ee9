/**
 * The device catalog: the conventional PC resources of the four PC-standard devices (IBM PC/AT I/O
 * map: COM1 0x3F8-0x3FF on IRQ4, PIT 0x40-0x43 on IRQ0, PCI mechanism #1 at 0xCF8-0xCFF per PCI Local
 * Bus Spec 3.0 §3.2.2.3.2; HPET 1 KiB at 0xFED00000 as the IA-PC HPET spec's ACPI table example and
 * every Intel chipset place it), the modes each may be given in (DESIGN.md §1: timers exclusive only),
 * factories that wire the context's clock and lines (checked through the devices' datasheet behaviour),
 * and registerDeviceType's checks.
 */
import { describe, expect, it } from "vitest";
import { EventQueue } from "../../src/sim/event-queue.ts";
import { QueueClock } from "../../src/sim/clock.ts";
import { RecordingLine } from "../../src/devices/irq-line.ts";
import { PortBus } from "../../src/devices/port-bus.ts";
import { MmioBus } from "../../src/devices/mmio-bus.ts";
import { deviceType, deviceTypes, PC_COM_PORTS, registerDeviceType, type DeviceContext } from "../../src/devices/device-catalog.ts";

const HZ = 2_400_000_000;

function ctx(options: Record<string, unknown> = {}, lines = 1) {
  const queue = new EventQueue();
  const irq = Array.from({ length: lines }, () => new RecordingLine());
  const c: DeviceContext = { clock: new QueueClock(queue, HZ), irq, options };
  return { queue, irq, c };
}

describe("device catalog: the PC-standard devices", () => {
  it.each([
    ["uart16550", { ports: 8, irqPins: 1 }, { portBase: 0x3f8, irq: 4 }, ["exclusive", "emulated", "paravirtual"]],
    ["pit8254", { ports: 4, irqPins: 1 }, { portBase: 0x40, irq: 0 }, ["exclusive"]],
    ["hpet", { mmioBytes: 1024, irqPins: 3 }, { mmioBase: 0xfed00000 }, ["exclusive"]],
    ["pci-config", { ports: 8 }, { portBase: 0xcf8 }, ["emulated"]],
  ])("%s needs %o at %o, modes %o", (kind, resources, defaults, modes) => {
    const t = deviceType(kind);
    expect(t.resources).toEqual(resources);
    expect(t.defaults).toEqual(defaults);
    expect(t.modes).toEqual(modes);
    expect(t.description.length).toBeGreaterThan(10);
  });

  it("lists the PC serial ports: COM1 0x3F8 IRQ4, COM2 0x2F8 IRQ3, COM3 0x3E8 IRQ4, COM4 0x2E8 IRQ3", () => {
    expect(PC_COM_PORTS.map((p) => [p.portBase, p.irq])).toEqual([[0x3f8, 4], [0x2f8, 3], [0x3e8, 4], [0x2e8, 3]]);
  });

  it("names the known kinds when asked for an unknown one", () => {
    expect(() => deviceType("floppy")).toThrow(/unknown device kind 'floppy'.*uart16550.*pit8254.*hpet/);
    expect(deviceTypes().map((t) => t.kind)).toEqual(expect.arrayContaining(["uart16550", "pit8254", "hpet", "pci-config"]));
  });

  it("creates a UART wired to the context: LSR reads 0x60 and a byte reaches the sink one character later", () => {
    const out: number[] = [];
    const { queue, c } = ctx({ sink: (b: number) => out.push(b) });
    const inst = deviceType("uart16550").create(c);
    const bus = new PortBus();
    bus.map(0x3f8, 8, inst.port!);
    expect(bus.read(0x3fd, 1)).toBe(0x60);
    bus.write(0x3f8, 1, 0x41);
    queue.runUntil(Math.ceil((10 * HZ) / 115200)); // 8N1 at the reset divisor 1
    expect(out).toEqual([0x41]);
    expect((inst.state as { transmitted: number[] }).transmitted).toEqual([0x41]);
  });

  it("creates a PIT whose channel 0 drives ctx.irq[0] and that brings port 0x61 along", () => {
    const { queue, irq, c } = ctx({ biosInit: true });
    const inst = deviceType("pit8254").create(c);
    expect(inst.fixedPorts!.map((p) => [p.port, p.length])).toEqual([[0x61, 1]]);
    queue.runUntil(Math.ceil((65537 * 3 * HZ) / 1193182));
    expect(irq[0].edges).toBe(3 + 1); // the BIOS's 18.2 Hz square wave, plus OUT rising at programming
    expect(deviceType("pit8254").create(ctx({ port61: false }).c).fixedPorts).toEqual([]);
  });

  it("creates an HPET in MMIO space with one line per timer", () => {
    const { c } = ctx({}, 3);
    const inst = deviceType("hpet").create(c);
    const mmio = new MmioBus();
    mmio.map(0xfed00000, 1024, inst.mmio!);
    expect(mmio.read(0xfed00000, 4) >>> 0).toBe(0x8086a201);
  });

  it("creates the PCI configuration space with the host bridge at 00:00.0", () => {
    const inst = deviceType("pci-config").create(ctx().c);
    const bus = new PortBus();
    bus.map(0xcf8, 8, inst.port!);
    bus.write(0xcf8, 4, 0x80000000);
    expect(bus.read(0xcfc, 4) >>> 0).toBe(0x12378086);
  });

  it("rejects unknown options and options of the wrong type, naming them", () => {
    expect(() => deviceType("uart16550").create(ctx({ baud: 9600 }).c)).toThrow(/uart16550: unknown option 'baud'/);
    expect(() => deviceType("hpet").create(ctx({ timers: "3" }).c)).toThrow(/hpet: option 'timers' must be a number/);
    expect(() => deviceType("hpet").create(ctx({ routeCaps: [1, "x"] }).c)).toThrow(/array of numbers/);
  });
});

describe("registerDeviceType", () => {
  const base = {
    description: "a test device",
    resources: { ports: 2 },
    defaults: { portBase: 0x300 },
    modes: ["emulated"] as const,
    create: () => ({ kind: "x", device: null, state: {} }),
  };

  it("adds a kind with one call, and refuses it twice", () => {
    registerDeviceType({ ...base, kind: "test-dev-a" });
    expect(deviceType("test-dev-a").resources.ports).toBe(2);
    expect(() => registerDeviceType({ ...base, kind: "test-dev-a" })).toThrow(/already registered/);
    expect(() => registerDeviceType({ ...base, kind: "uart16550" })).toThrow(/already registered/);
  });

  it("refuses empty or unknown modes, bad counts and defaults that do not fit", () => {
    expect(() => registerDeviceType({ ...base, kind: "t1", modes: [] })).toThrow(/modes/);
    expect(() => registerDeviceType({ ...base, kind: "t2", modes: ["shared" as "emulated"] })).toThrow(/modes/);
    expect(() => registerDeviceType({ ...base, kind: "t3", resources: { ports: -1 } })).toThrow(/resources.ports/);
    expect(() => registerDeviceType({ ...base, kind: "t4", defaults: { portBase: 0xffff } })).toThrow(/portBase/);
    expect(() => registerDeviceType({ ...base, kind: "t5", defaults: { mmioBase: 0 } })).toThrow(/mmioBase/);
    expect(() => deviceType("t1")).toThrow(/unknown/);
  });
});
