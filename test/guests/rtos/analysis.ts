/**
 * Analytic references for the scheduling tests: the exact response-time analysis of fixed-priority
 * preemptive scheduling (Joseph & Pandya 1986; Audsley, Burns, Richardson, Tindell & Wellings 1993):
 * R_i = C_i + sum over higher-priority j of ceil(R_i / T_j) * C_j, iterated from R_i = C_i to a fixed point
 * (or until it passes the deadline), and the utilisation U = sum C_i / T_i (EDF is feasible for implicit
 * deadlines iff U <= 1, Liu & Layland 1973, Theorem 7).
 */

export interface AnalysedTask {
  /** Worst-case execution time and period, in the same unit. */
  c: number;
  t: number;
  /** Deadline (default: the period). */
  d?: number;
}

/** Response times of tasks listed from the highest priority to the lowest; Infinity when R_i > D_i. */
export function responseTimes(tasks: AnalysedTask[]): number[] {
  return tasks.map((ti, i) => {
    const d = ti.d ?? ti.t;
    let r = ti.c;
    for (;;) {
      let next = ti.c;
      for (let j = 0; j < i; j++) next += Math.ceil(r / tasks[j].t) * tasks[j].c;
      if (next > d) return Infinity;
      if (next === r) return r;
      r = next;
    }
  });
}

export function utilisation(tasks: AnalysedTask[]): number {
  return tasks.reduce((u, x) => u + x.c / x.t, 0);
}
