#!/usr/bin/env node
// The vmxsim command: runs the TypeScript CLI (src/cli.ts) through tsx's ESM loader, so no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
