/**
 * C printf number formatting for the text reports, so the perf- and cyclictest-style tables print exactly
 * what the C tools print for the same numbers (ISO C 7.21.6.1 `%*.*f`, `%*d`, `%0*d`; glibc rounds a
 * value that lies exactly half-way between two results to the even one in the default rounding mode,
 * where JavaScript's toFixed picks the larger: 0.125 -> "0.12" in C, "0.13" in JS).
 *
 * Leaves out: everything but fixed-point and integer conversions with a field width; `%e`/`%g`; locales.
 * Field widths are minimums, as in C: a longer value overflows its column.
 */

/** `%<width>.<decimals>f` (right-aligned, space-padded). */
export function fixed(x: number, decimals: number, width = 0): string {
  return fixedRaw(x, decimals).padStart(width);
}

/** `%<width>d` for an integer (x is truncated toward zero, as a C cast to long does). */
export function int(x: number, width = 0): string {
  return String(Math.trunc(x) === 0 ? 0 : Math.trunc(x)).padStart(width);
}

/** `%0<width>d` / `%0<width>lu`: zero-padded; the sign stays in front of the zeros. */
export function zeroInt(x: number, width: number): string {
  const v = Math.trunc(x);
  if (v < 0) return "-" + String(-v).padStart(width - 1, "0");
  return String(v).padStart(width, "0");
}

/** `%<width>s` (right-aligned) */
export function right(s: string, width: number): string {
  return s.padStart(width);
}

/** `%-<width>s` (left-aligned) */
export function left(s: string, width: number): string {
  return s.padEnd(width);
}

function fixedRaw(x: number, decimals: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  const js = x.toFixed(decimals);
  // toFixed works on the exact binary value, so it differs from glibc only on an exact tie, which a
  // double can only be if its exact expansion ends at decimal decimals+1 with a 5. toFixed(decimals+40)
  // shows that expansion exactly for every |x| >= 1e-20 (the numbers a report prints).
  const digits = Math.min(100, decimals + 40);
  const exact = Math.abs(x).toFixed(digits);
  const tail = exact.slice(exact.length - (digits - decimals));
  if (tail[0] !== "5" || !/^50*$/.test(tail)) return js;
  // A tie: toFixed rounded away from zero; C rounds to even. Round down when the kept last digit is even.
  const kept = exact.slice(0, exact.length - (digits - decimals)).replace(/\.$/, "");
  const lastDigit = Number(kept[kept.length - 1]);
  if (lastDigit % 2 === 0) return (x < 0 ? "-" : "") + kept;
  return js;
}
