// The layering of DESIGN.md, checked on the source: nothing outside src/store imports
// a database driver (`dexie`, `better-sqlite3`), src/sync never imports src/reactive,
// and no layer imports one above it. Imports are read with TypeScript's own
// pre-processor (static imports, re-exports, dynamic `import()`), so comments and
// strings do not count.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

/** Database drivers: only the store may know them. */
const DRIVERS = ['dexie', 'better-sqlite3'];

/**
 * What each layer of src may import (besides itself and npm packages): DESIGN.md
 * "Layers". sync and content sit side by side on the store; reactive over both;
 * the composition roots (src/index.ts, src/engine.ts) and react over everything.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  api: [],
  store: ['api'],
  sync: ['api', 'store'],
  content: ['api', 'store', 'sync'],
  reactive: ['api', 'store', 'sync', 'content'],
  react: ['api', 'store', 'sync', 'content', 'reactive', '(root)'],
  '(root)': ['api', 'store', 'sync', 'content', 'reactive'],
  sim: ['api'],
  // The command line and MCP server (issue 16): the top layer, on the public entries
  // (src/index.ts, src/sqlite.ts, the api client); nothing imports it.
  cli: ['(root)', 'api'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(d.name) && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The layer of a path inside src: its first folder, or '(root)' for src/*.ts. */
function layerOf(file: string): string {
  const rel = relative(src, file).split(/[\\/]/);
  return rel.length === 1 ? '(root)' : (rel[0] as string);
}

/** Import specifiers of one file's text. */
export function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** The rules broken by `text` as if it were the file at `file`: one line per broken rule. */
export function violations(file: string, text: string): string[] {
  const layer = layerOf(file);
  const out: string[] = [];
  for (const spec of importsOf(text)) {
    const name = relative(root, file);
    if (DRIVERS.some((d) => spec === d || spec.startsWith(`${d}/`))) {
      if (layer !== 'store') out.push(`${name} imports the database driver "${spec}": only src/store may`);
      continue;
    }
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(src)) continue;
    const to = layerOf(target);
    if (to === layer) continue;
    const allowed = MAY_IMPORT[layer] ?? [];
    if (!allowed.includes(to)) out.push(`${name} (layer ${layer}) imports ${relative(root, target)} (layer ${to})`);
  }
  return out;
}

describe('layer boundaries (DESIGN.md "Layers")', () => {
  it('no file in src breaks them', () => {
    const broken = sourceFiles(src).flatMap((f) => violations(f, readFileSync(f, 'utf8')));
    expect(broken).toEqual([]);
  });

  it('the check catches a driver outside the store and sync importing reactive', () => {
    expect(violations(join(src, 'sync/x.ts'), "import { liveQuery } from 'dexie';")).toHaveLength(1);
    expect(violations(join(src, 'content/x.ts'), "export type { Table } from 'dexie';")).toHaveLength(1);
    expect(violations(join(src, 'reactive/x.ts'), "const m = await import('better-sqlite3');")).toHaveLength(1);
    expect(violations(join(src, 'sync/x.ts'), "import { createViews } from '../reactive/views.js';")).toEqual([
      'src/sync/x.ts (layer sync) imports src/reactive/views.js (layer reactive)',
    ]);
    expect(violations(join(src, 'store/x.ts'), "import type { SyncContext } from '../sync/context.js';")).toHaveLength(1);
    expect(violations(join(src, 'cli/x.ts'), "import { live } from '../store/live.js';")).toHaveLength(1);
    expect(violations(join(src, 'x.ts'), "import { main } from './cli/main.js';")).toHaveLength(1);
    expect(violations(join(src, 'cli/x.ts'), "import { createMailboxSync } from '../index.js';")).toEqual([]);
    // Allowed: the store's own driver, a layer below, comments.
    expect(violations(join(src, 'store/x.ts'), "import { Dexie } from 'dexie';")).toEqual([]);
    expect(violations(join(src, 'sync/x.ts'), "import { live } from '../store/live.js'; // not 'dexie'")).toEqual([]);
  });
});
