/**
 * A model invariant broke (shared/DESIGN.md §5): a bug in vmxsim, never a guest's fault. Carries the
 * core number, EIP and a register dump so the report can say where it happened.
 */
export class SimulationError extends Error {
  constructor(message: string, readonly where?: { core: number; eip: number; dump: string }) {
    super(where ? `${message} (core ${where.core}, eip=0x${(where.eip >>> 0).toString(16)})\n${where.dump}` : message);
    this.name = "SimulationError";
  }
}
