// One measurement in its own Node process (node --import tsx), for figures whose
// numbers must not mix with the rest of the run: process memory (RSS) per storage
// backend, and a restart that really starts cold. The task goes in as a JSON
// argument; progress lines and the one result come back over the IPC channel.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

type ChildMessage<R> = { type: 'log'; msg: string } | { type: 'result'; result: R } | { type: 'error'; error: string };

/**
 * Runs `script` (a module calling {@link serveChildTask}) on `task` in a new process
 * and resolves with its result once the process has exited, so the next child never
 * overlaps it. Rejects on the child's error, an exit without a result, or `timeoutMs`
 * (the child is then killed).
 */
export function runChild<R>(script: URL, task: unknown, options: { log(msg: string): void; timeoutMs: number }): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const child = fork(fileURLToPath(script), [JSON.stringify(task)], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let outcome: { ok: true; result: R } | { ok: false; error: Error } | undefined;
    const timer = setTimeout(() => {
      outcome ??= { ok: false, error: new Error(`child ${script.pathname} timed out after ${options.timeoutMs} ms`) };
      child.kill();
    }, options.timeoutMs);
    child.on('message', (raw) => {
      const m = raw as ChildMessage<R>;
      if (m.type === 'log') options.log(m.msg);
      else if (m.type === 'result') outcome ??= { ok: true, result: m.result };
      else outcome ??= { ok: false, error: new Error(`child failed: ${m.error}`) };
    });
    child.on('error', (e) => {
      outcome ??= { ok: false, error: e };
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const o = outcome ?? { ok: false, error: new Error(`child exited (${signal ?? `code ${code}`}) without a result`) };
      if (o.ok) resolve(o.result);
      else reject(o.error);
    });
  });
}

/**
 * The child's side: reads the task from argv, runs it, sends the result (or the
 * error) to the parent and exits, without waiting for handles a stopped engine may
 * leave behind.
 */
export function serveChildTask<T, R>(run: (task: T, log: (msg: string) => void) => Promise<R>): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('this module is a bench child process: start it through runChild (bench/lib/child.ts)');
  const task = JSON.parse(process.argv[2] ?? 'null') as T;
  const reply = (m: ChildMessage<R>, code: number) => send(m, undefined, undefined, () => process.exit(code));
  run(task, (msg) => send({ type: 'log', msg } satisfies ChildMessage<R>)).then(
    (result) => reply({ type: 'result', result }, 0),
    (e: unknown) => reply({ type: 'error', error: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 1),
  );
}
