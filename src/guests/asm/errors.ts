/**
 * Assembler errors that name the TypeScript source line of the call that emitted the faulty item.
 *
 * A guest is a TypeScript program; "the source line" is the caller's frame in a V8 stack trace.
 * Errors found while the guest's call runs take the stack right then; items whose errors can surface
 * only at build time (an undefined label, a rel8 out of range) keep an Error captured at emission,
 * formatted only if something is wrong.
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

/**
 * Throws `file.ts:42: what: message`. Without a stored site the stack is taken now, which names the
 * right line when the error is found during the guest's own call (most are): capturing a stack costs
 * microseconds, so items store one only when an error may surface later, at build time.
 */
export function fail(site: Site | undefined, what: string, message: string): never {
  throw new AsmError(`${siteText(site ?? captureSite())}: ${what}: ${message}`);
}
