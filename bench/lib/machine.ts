// Facts about the machine a run happened on, recorded beside the numbers.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface MachineFacts {
  node: string;
  platform: string;
  arch: string;
  cpus: number;
  cpu_model: string;
  total_mem_gb: number;
  loadavg_at_start: number[];
  chromium: string | null;
  git_commit: string | null;
}

function tryExec(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machineFacts(chromiumPath: string): MachineFacts {
  const cpus = os.cpus();
  const version = tryExec(chromiumPath, ['--version']);
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? 'unknown',
    total_mem_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavg_at_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
    chromium: version ? (version.split('\n').find((l) => /chrom/i.test(l)) ?? version) : null,
    git_commit: tryExec('git', ['rev-parse', '--short', 'HEAD']),
  };
}
