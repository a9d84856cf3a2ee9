/**
 * A plain-text table with columns sized to their widest cell (header included): text columns left-aligned,
 * number columns right-aligned, two spaces between columns after the indent, no trailing spaces. Used by the
 * tables that have no external layout to copy (tasks, I/O, cache, interrupt latency); the perf- and
 * cyclictest-style blocks use their tools' printf widths instead (exit-table.ts, latency-table.ts).
 *
 * Leaves out: wrapping, multi-line cells, colours.
 */

export interface Column {
  header: string;
  align: "left" | "right";
}

/** Lines of the table: the header row, then one row per entry of `rows` (cells already formatted). */
export function columnTable(columns: Column[], rows: string[][], indent = "  "): string[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    (
      indent +
      columns
        .map((c, i) => {
          const cell = cells[i] ?? "";
          return c.align === "left" ? cell.padEnd(widths[i]) : cell.padStart(widths[i]);
        })
        .join("  ")
    ).trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}
