/**
 * Assembler errors that name the TypeScript source line of the call that emitted the faulty item.
 *
 * A guest is a TypeScript program; "the source line" is the caller's frame in a V8 stack trace.
 * We capture an Error (cheap: V8 formats the stack lazily) when an item is emitted and format it only
 * when something is wrong, possibly much later (an undefined label is known only at build time).
 * Frames inside this folder are skipped so the line is the guest author's, not the assembler's.
 * Leaves out: column numbers, and any attempt to see through the guest's own helper functions.
 */

export class AsmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AsmError";
  }
}

/** Where an item was emitted: an Error whose stack is read only when an error is reported. */
export type Site = Error;

export function captureSite(): Site {
  return new Error();
}

const FRAME = /\(?(?:file:\/\/)?([^\s()]+?):(\d+):\d+\)?\s*$/;
const OWN_DIR = "/guests/asm/";

/** "guest.ts:42" for the first frame outside the assembler, or "<unknown>". */
export function siteText(site: Site | undefined): string {
  const lines = (site?.stack ?? "").split("\n").slice(1);
  for (const line of lines) {
    const m = FRAME.exec(line.trim());
    if (!m) continue;
    const file = m[1].replace(/\\/g, "/");
    if (file.includes(OWN_DIR) || file.startsWith("node:") || file.includes("node_modules")) continue;
    return `${file.slice(file.lastIndexOf("/") + 1)}:${m[2]}`;
  }
  return "<unknown>";
}

/** Throws `file.ts:42: what: message`. */
export function fail(site: Site | undefined, what: string, message: string): never {
  throw new AsmError(`${siteText(site)}: ${what}: ${message}`);
}
