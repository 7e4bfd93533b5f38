// Helpers for driving the engine in Node against a simulator: fresh fake-indexeddb
// replicas, waiting on observables with a timeout, finding folders.
import { firstValueFrom, type Observable } from 'rxjs';
import { filter, timeout } from 'rxjs/operators';
import type { Engine, EngineFactory, MailboxSyncOptions, Simulator } from './parts.js';
import { nodeIdb } from './parts.js';

let seq = 0;

/** Where a Node replica lives, so another engine can reopen it. */
export interface NodeReplica {
  idb: ReturnType<typeof nodeIdb>;
  dbName: string;
}

/** A new engine against `sim`, on a fresh fake-indexeddb factory unless `replica` is given. */
export function newEngine(factory: EngineFactory, sim: Simulator, extra: Partial<MailboxSyncOptions> = {}, replica?: NodeReplica): { engine: Engine; replica: NodeReplica } {
  const r = replica ?? { idb: nodeIdb(), dbName: `bench-${process.pid}-${++seq}` };
  const engine = factory.create({
    apiKey: sim.apiKey,
    baseUrl: sim.url,
    indexedDB: r.idb.indexedDB,
    IDBKeyRange: r.idb.IDBKeyRange,
    dbName: r.dbName,
    ...extra,
  });
  return { engine, replica: r };
}

/** First value of `source` matching `pred`, or an error after `ms`. */
export function waitFor<T>(source: Observable<T>, pred: (v: T) => boolean, ms: number, what: string): Promise<T> {
  return firstValueFrom(
    source.pipe(
      filter(pred),
      timeout({ first: ms, with: () => Promise.reject(new Error(`timed out after ${ms} ms waiting for ${what}`)) }),
    ),
  );
}

/** Stops an engine and deletes its replica; never throws (cleanup). */
export async function dispose(engine: Engine): Promise<void> {
  await engine.clear().catch(() => undefined);
}

interface FolderRow {
  id: string;
  role: string | null;
  name: string;
  total_messages: number;
}

/** The folders of a simulator's mailbox, from its in-process snapshot (costs no API budget). */
export async function simFolders(sim: Simulator): Promise<FolderRow[]> {
  const snap = await sim.snapshot();
  return snap.folders as FolderRow[];
}

export async function inboxOf(sim: Simulator): Promise<FolderRow> {
  const f = (await simFolders(sim)).find((x) => x.role === 'inbox');
  if (!f) throw new Error('simulator mailbox has no inbox folder');
  return f;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export { Watch } from '../engine/watch.js';
