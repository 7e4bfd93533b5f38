// Checkpoints of a SQLite file on a thread of their own.
//
// In WAL mode every commit appends the pages it changed to the log, and a checkpoint
// copies the log back into the database file (and syncs both). Run by SQLite alone
// (`wal_autocheckpoint`), the copy runs inside the COMMIT that crosses the limit, on
// the only thread the engine has: in a 100k-message bootstrap that was 3.3 of the
// 7.5 s its commits took. Here a worker thread with a connection of its own copies
// the log back as it grows, while the process goes on (a PASSIVE checkpoint takes no
// lock a writer needs). SQLite's own checkpoint stays as it was: at the limit it finds
// only the last commit or two left to copy, and the log starts over as before. A
// worker that cannot start, or stops, leaves everything to it.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Longest pause between two checkpoints, in ms (while the log grows, 1 ms). */
const CHECKPOINT_PASS_MS = 100;
/** How long closing waits for the worker to close its connection, in ms. */
const CLOSE_WAIT_MS = 2_000;

// The worker's code (plain CommonJS: the process may run TypeScript through a loader
// a worker would not have). Its connection sets no journal mode: the file is in WAL
// already. A pass that fails (the file is busy, a disk error) is tried again at the
// next one; the writer's own checkpoints run meanwhile, as always.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const { path, passMs, state } = workerData;
const flag = new Int32Array(state);
const db = new Database(path, { timeout: 0 });
db.pragma('synchronous = NORMAL');
db.pragma('cache_size = -1024');
let timer;
let closed = false;
let copied = -1;
let wait = 1;
const pass = () => {
  timer = undefined;
  if (closed) return;
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    wait = row.checkpointed !== copied ? 1 : Math.min(wait * 2, passMs);
    copied = row.checkpointed;
  } catch {
    wait = passMs;
  }
  timer = setTimeout(pass, wait);
};
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  closed = true;
  if (timer) clearTimeout(timer);
  try { db.close(); } catch {}
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  parentPort.close();
});
timer = setTimeout(pass, passMs);
`;

/** The checkpoint worker of one open file. */
export interface Checkpointer {
  /** Closes the worker's connection, waiting (bounded) so the file's last connection is this process's own. */
  close(): void;
}

export interface CheckpointerOptions {
  /** Called when the worker fails (it did not start, or stopped): the writer's own checkpoints, which always run, then do all the copying. */
  onFailure: (error: Error) => void;
  /** The better-sqlite3 module the worker loads (tests give a bad one). */
  driver?: string;
}

/** Starts the checkpoint worker of the SQLite file at `path` (already in WAL mode). */
export function startCheckpointer(path: string, options: CheckpointerOptions): Checkpointer {
  // 1 once the worker has closed its connection.
  const state = new SharedArrayBuffer(4);
  const flag = new Int32Array(state);
  const driver = options.driver ?? createRequire(import.meta.url).resolve('better-sqlite3');
  let failed = false;
  const fail = (error: Error) => {
    if (failed) return;
    failed = true;
    options.onFailure(error);
  };
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver, path, passMs: CHECKPOINT_PASS_MS, state },
    resourceLimits: { maxOldGenerationSizeMb: 16 },
  });
  worker.unref();
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (Atomics.load(flag, 0) !== 1) fail(new Error(`the checkpoint worker exited (code ${code})`));
  });
  return {
    close() {
      if (failed || Atomics.load(flag, 0) === 1) return;
      worker.postMessage('close');
      // Synchronous on purpose: the file's connections close right after this, and
      // the last one to close checkpoints the log and deletes it.
      const deadline = Date.now() + CLOSE_WAIT_MS;
      for (let now = Date.now(); Atomics.load(flag, 0) !== 1 && now < deadline; now = Date.now()) Atomics.wait(flag, 0, 0, deadline - now);
      failed = true;
      void worker.terminate();
    },
  };
}
