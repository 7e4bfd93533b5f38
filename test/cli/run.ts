// Runs `sendmux-sync` as a real process (bin/sendmux-sync.js) against a simulator.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'sendmux-sync.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cliEnv(apiKey: string, baseUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SENDMUX_API_KEY: apiKey, SENDMUX_BASE_URL: baseUrl };
  delete env.SENDMUX_MAILBOX_ID;
  return env;
}

export function run(args: string[], env: NodeJS.ProcessEnv, ms = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`sendmux-sync ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, ms);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
