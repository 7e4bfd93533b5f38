// The package's commands answer a user's mistake or a missing spec with one line on
// stderr and a non-zero exit, never a stack trace (issue 17), and `--help` works.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const tsx = resolve(root, 'node_modules/.bin/tsx');

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(args[0] as string, args.slice(1), { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A stack trace's frames look like "    at fn (file:line:col)". */
const hasStack = (text: string) => /^\s+at\s/m.test(text) || text.includes('node:internal');

describe('command-line errors without stack traces', () => {
  it('sendmux-sim --validate-responses without the spec: one line, exit 1', () => {
    const r = run(['node', 'bin/sendmux-sim.js', '--validate-responses', '--port', '0'], { SENDMUX_OPENAPI: '/nonexistent/openapi.json' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('SENDMUX_OPENAPI');
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('sendmux-sim with an unknown option: one line, exit 2', () => {
    const r = run(['node', 'bin/sendmux-sim.js', '--no-such-flag']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^sendmux-sim: .*--no-such-flag.*see --help/);
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('npm run gen:api without the spec: one line, exit 1', () => {
    const r = run(['node', 'scripts/gen-api.mjs'], { SENDMUX_OPENAPI: '/nonexistent/openapi.json' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^gen:api: OpenAPI spec not found at \/nonexistent\/openapi.json/);
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('demo:agent --help prints usage and exits 0; an unknown option exits 2 in one line', () => {
    const help = run([tsx, 'demo/agent.ts', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--label-from');
    expect(hasStack(help.stderr)).toBe(false);
    const bad = run([tsx, 'demo/agent.ts', '--nope']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^demo:agent: .*--nope/);
    expect(hasStack(bad.stderr)).toBe(false);
  });

  it('npm run chaos --help prints usage and exits 0; a bad option or number exits 2 without a stack', () => {
    const help = run([tsx, 'test/chaos/cli.ts', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--seeds N');
    const bad = run([tsx, 'test/chaos/cli.ts', '--nope']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^chaos: .*--nope/);
    expect(hasStack(bad.stderr)).toBe(false);
    const nan = run([tsx, 'test/chaos/cli.ts', '--steps', 'x']);
    expect(nan.status).toBe(2);
    expect(nan.stderr).toMatch(/^chaos: --steps must be a non-negative integer/);
    expect(hasStack(nan.stderr)).toBe(false);
  });
});
