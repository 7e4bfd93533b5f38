// React is an optional peer dependency (issue 18): the root entry and the other
// non-React entries must never import it, or an app without React could not load
// the package. Walks the source import graph from each entry (every static and
// dynamic import and re-export, types included) and collects the packages reached.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** Bare specifiers (packages) reachable from `entry` through relative imports. */
function packagesReached(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = [resolve(root, entry)];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.')) queue.push(resolve(dirname(file), fileName).replace(/\.js$/, '.ts'));
      else packages.add(fileName);
    }
  }
  return packages;
}

const isReact = (name: string) => /^(react|react-dom|@types\/react)(\/|$)/.test(name);

describe('React stays out of the non-React entries', () => {
  for (const entry of ['src/index.ts', 'src/api/index.ts', 'src/sim/index.ts']) {
    it(`${entry} never imports react`, () => {
      const reached = packagesReached(entry);
      expect(reached.size).toBeGreaterThan(0);
      expect([...reached].filter(isReact)).toEqual([]);
    });
  }

  it('sendmux-sync/react does import react (the walk sees it)', () => {
    expect([...packagesReached('src/react/index.ts')].filter(isReact)).toContain('react');
  });
});
