// The SQL thread (sqlThread.ts): a worker with the file's write connection. It runs
// the read-write transactions the process's thread hands it, one message at a time
// and in order: BEGIN, each request (an SqlOp, on the databases registered with it),
// then COMMIT or ROLLBACK. It also tells the process's thread when another process
// committed (its connection's data_version) and when its writes queued messages for
// the full-text filler.
import { parentPort, workerData } from 'node:worker_threads';
import { SqlDatabase, executeOp, tableSchema, type DatabaseSpec, type SqlOp } from './core.js';
import { Connection, openConnection, WRITER_CACHE_KIB } from './file.js';
import { fullTextParts } from './textIndex.js';
import type { ThreadEvent, ThreadReply, ThreadRequest, ThreadSetup } from './sqlThread.js';

const port = parentPort!;
const setup = workerData as ThreadSetup;
const flag = new Int32Array(setup.state);
const conn = new Connection(openConnection(setup.path, WRITER_CACHE_KIB, setup.busyTimeoutMs));
const databases = new Map<string, SqlDatabase>();
let dataVersion = conn.db.pragma('data_version', { simple: true }) as number;

const send = (message: ThreadReply | ThreadEvent) => port.postMessage(message);

/** An error as data (a structured clone would drop its name and code). */
function failure(error: unknown): { name: string; message: string; code?: string } {
  const e = error as { name?: string; message?: string; code?: unknown };
  return { name: e.name ?? 'Error', message: e.message ?? String(error), ...(typeof e.code === 'string' ? { code: e.code } : {}) };
}

function register(spec: DatabaseSpec): void {
  const wake = () => send({ event: 'wake', db: spec.name });
  databases.set(spec.name, new SqlDatabase(spec, spec.tables.map(tableSchema), fullTextParts(spec.fullText, spec.name, wake)));
}

function run(request: ThreadRequest): unknown {
  switch (request.type) {
    case 'begin':
      conn.db.exec('BEGIN IMMEDIATE');
      return undefined;
    case 'op':
      return executeOp(databases, conn, request.db, request.op as SqlOp);
    case 'commit':
      try {
        conn.db.exec('COMMIT');
      } catch (error) {
        // A COMMIT SQLite refused (a full disk) may leave the transaction open.
        if (conn.db.inTransaction) conn.db.exec('ROLLBACK');
        throw error;
      }
      return undefined;
    case 'rollback':
      if (conn.db.inTransaction) conn.db.exec('ROLLBACK');
      return undefined;
    case 'register':
      register(request.spec);
      return undefined;
    case 'close':
      return undefined;
  }
}

port.on('message', (request: ThreadRequest) => {
  if (request.type === 'close') {
    clearInterval(poll);
    try {
      conn.db.close();
    } finally {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      port.close();
    }
    return;
  }
  try {
    send({ id: request.id, ok: true, result: run(request) });
  } catch (error) {
    send({ id: request.id, ok: false, error: failure(error) });
  }
});

// Another process's commit changes this connection's data_version (its own never do).
const poll = setInterval(() => {
  if (conn.db.inTransaction) return;
  const version = conn.db.pragma('data_version', { simple: true }) as number;
  if (version === dataVersion) return;
  dataVersion = version;
  send({ event: 'external' });
}, setup.pollMs);

for (const spec of setup.databases) register(spec);
send({ event: 'ready' });
