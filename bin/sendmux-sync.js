#!/usr/bin/env node
// CLI entry: `npx sendmux-sync <command>` (see `sendmux-sync --help`).
// Uses the built output when present, otherwise runs the TypeScript source through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = fileURLToPath(new URL('../dist/cli/run.js', import.meta.url));
if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport(fileURLToPath(new URL('../src/cli/run.ts', import.meta.url)), import.meta.url);
}
