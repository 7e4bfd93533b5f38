// The README's code is tested (issue 17), so the docs cannot drift from the code:
// every ```ts and ```tsx block is type-checked as its own strict module (imports of
// 'sendmux-sync', 'sendmux-sync/api', 'sendmux-sync/sim' and 'sendmux-sync/react'
// point at src/; ```tsx blocks are .tsx files, JSX checked), and
// every ```ts node block also runs in a child process against the simulator, with
// SENDMUX_API_KEY and SENDMUX_BASE_URL set to the simulator's. A block must exit 0
// on its own: a hang means something keeps the process alive after stop().
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';

const root = resolve(import.meta.dirname, '../..');
const dir = join(root, 'test', '.readme-blocks');

interface Block {
  /** 1-based README line of the block's first code line. */
  line: number;
  run: boolean;
  /** A ```tsx block (type-checked as a .tsx file). */
  tsx: boolean;
  code: string;
}

/** The README's TypeScript blocks, in order. */
function readmeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript|tsx)(\s+node)?\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== '```') end++;
    blocks.push({ line: start + 1, run: open[2] !== undefined, tsx: open[1] === 'tsx', code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** The package's entries and the sources they point at. */
const ENTRY_SOURCES: Record<string, string> = {
  'sendmux-sync': 'src/index.ts',
  'sendmux-sync/api': 'src/api/index.ts',
  'sendmux-sync/sim': 'src/sim/index.ts',
  'sendmux-sync/react': 'src/react/index.ts',
  'sendmux-sync/sqlite': 'src/sqlite.ts',
};

/** Points the package's own name at its sources (the tarball's types are checked by check:package). */
function localImports(code: string): string {
  return code.replace(/from '(sendmux-sync(?:\/[a-z]+)?)'/g, (whole, name: string) => {
    const source = ENTRY_SOURCES[name];
    return source ? `from '${resolve(root, source).replace(/\.ts$/, '.js')}'` : whole;
  });
}

const blocks = readmeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
const fileOf = (b: Block) => join(dir, `readme-line-${b.line}.${b.tsx ? 'tsx' : 'ts'}`);

let sim: Simulator;
beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // `export {}` keeps each block in its own module scope (blocks reuse names).
  for (const b of blocks) writeFileSync(fileOf(b), `${localImports(b.code)}\nexport {};\n`);
  sim = await startSimulator({ port: 0, seed: 1, messages: 300, rateLimitPerMinute: 0 });
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('README code', () => {
  it('has TypeScript blocks, some of them runnable', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    expect(blocks.filter((b) => b.run).length).toBeGreaterThanOrEqual(3);
    expect(blocks.filter((b) => b.tsx).length, 'the React section\'s ```tsx example').toBeGreaterThanOrEqual(1);
  });

  it('every ```ts block type-checks under the project\'s strict settings', () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    if (!config) throw new Error('tsconfig.json did not parse');
    const program = ts.createProgram(blocks.map(fileOf), { ...config.options, noEmit: true });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName.startsWith(dir))
      .map((d) => {
        const file = d.file as ts.SourceFile;
        const { line } = file.getLineAndCharacterOfPosition(d.start ?? 0);
        const block = blocks.find((b) => fileOf(b) === file.fileName) as Block;
        return `README.md:${block.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  }, 120_000);

  for (const b of blocks.filter((x) => x.run)) {
    it(`the Node block at README.md:${b.line} runs against the simulator and exits 0`, async () => {
      const tsx = join(root, 'node_modules', '.bin', 'tsx');
      const child = spawn(tsx, [fileOf(b)], {
        cwd: root,
        env: { ...process.env, SENDMUX_API_KEY: sim.apiKey, SENDMUX_BASE_URL: sim.url, SENDMUX_REPLICA: join(dir, `replica-${b.line}.sqlite`) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const code = await new Promise<number | null>((done) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('exit', (c) => {
          clearTimeout(timer);
          done(c);
        });
      });
      expect(code, `README.md:${b.line} exited ${code}:\n${out}`).toBe(0);
    }, 90_000);
  }
});
