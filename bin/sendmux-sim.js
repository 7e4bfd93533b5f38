#!/usr/bin/env node
// CLI entry for the simulator: `npx sendmux-sim --port 4010 --messages 5000 --seed 1 --control`.
// Uses the built output when present, otherwise runs the TypeScript source through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = fileURLToPath(new URL('../dist/sim/cli.js', import.meta.url));
if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport(fileURLToPath(new URL('../src/sim/cli.ts', import.meta.url)), import.meta.url);
}
