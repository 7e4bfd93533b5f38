// Peers, same data, same run (issue 9): ingest of N generated message records and the
// newest-50-of-a-folder query, for raw Dexie (the limit), RxDB on its free Dexie
// storage, and the engine's own store — in Node (fake-indexeddb) and in Chromium
// (real IndexedDB). Repetitions interleave the three so drift hits all alike.
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import type { BenchContext, FigureDef } from '../lib/context.js';
import { generatedMessages } from '../lib/dataset.js';
import type { FigureResult, Metric } from '../lib/report.js';
import { target, value } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import type { BrowserPeers } from '../browser/peers-entry.js';
import type { IdbEnv, QueryRun } from '../peers/peers.js';
import { largestFolder, toPeerRow } from '../peers/shape.js';
import type { Message } from '../peers/shape.js';

/** The store's apply path commits one API page (at most 100 records) per transaction. */
export const API_PAGE = 100;

/** One environment's way of running the peer operations. */
interface PeerDriver {
  env: 'node' | 'chromium';
  dexieIngest(name: string): Promise<number>;
  rxdbIngest(name: string): Promise<number>;
  storeIngest(name: string, pageSize: number): Promise<number>;
  dexieFolderQuery(name: string, folderId: string): Promise<QueryRun>;
  rxdbFolderQuery(name: string, folderId: string): Promise<QueryRun>;
  storeFolderQuery(name: string, folderId: string): Promise<QueryRun>;
  remove(kind: 'dexie' | 'rxdb' | 'store', name: string): Promise<void>;
}

async function nodeDriver(messages: readonly Message[]): Promise<PeerDriver> {
  const [{ peers }, store] = await Promise.all([import('../peers/peers.js'), import('../peers/engine-store.js')]);
  const env: IdbEnv = { indexedDB, IDBKeyRange };
  const rows = messages.map(toPeerRow);
  return {
    env: 'node',
    dexieIngest: (name) => peers.dexieIngest(env, name, rows),
    rxdbIngest: (name) => peers.rxdbIngest(env, name, rows),
    storeIngest: (name, pageSize) => store.storeIngest(env, name, messages, pageSize),
    dexieFolderQuery: (name, f) => peers.dexieFolderQuery(env, name, f),
    rxdbFolderQuery: (name, f) => peers.rxdbFolderQuery(env, name, f),
    storeFolderQuery: (name, f) => store.storeFolderQuery(env, name, f),
    async remove(kind, name) {
      if (kind === 'dexie') await peers.dexieDelete(env, name);
      else if (kind === 'rxdb') await peers.rxdbDelete(env, name);
      else await store.storeDelete(env, name);
    },
  };
}

async function chromiumDriver(ctx: BenchContext, messages: readonly Message[]): Promise<PeerDriver> {
  const b = await ctx.browser();
  const file = await b.bundleFile('peers-entry.ts', 'peers');
  b.serveJson('/data/peers.json', JSON.stringify(messages));
  await b.load(file, '__benchPeers');
  const loaded = await b.page.evaluate(() => (globalThis as unknown as { __benchPeers: BrowserPeers }).__benchPeers.load('/data/peers.json'));
  if (loaded !== messages.length) throw new Error(`page loaded ${loaded} of ${messages.length} records`);
  type Call = { fn: keyof BrowserPeers; args: unknown[] };
  const call = <T>(fn: Call['fn'], ...args: unknown[]): Promise<T> =>
    b.page.evaluate(
      ({ fn, args }: Call) => {
        const p = (globalThis as unknown as { __benchPeers: Record<string, (...a: unknown[]) => Promise<unknown>> }).__benchPeers;
        return p[fn]!(...args);
      },
      { fn, args },
    ) as Promise<T>;
  return {
    env: 'chromium',
    dexieIngest: (name) => call('dexieIngest', name),
    rxdbIngest: (name) => call('rxdbIngest', name),
    storeIngest: (name, pageSize) => call('storeIngest', name, pageSize),
    dexieFolderQuery: (name, f) => call('dexieFolderQuery', name, f),
    rxdbFolderQuery: (name, f) => call('rxdbFolderQuery', name, f),
    storeFolderQuery: (name, f) => call('storeFolderQuery', name, f),
    remove: (kind, name) => call('remove', kind, name),
  };
}

async function measure(ctx: BenchContext, d: PeerDriver, messages: readonly Message[], reps: number): Promise<FigureResult> {
  const { folderId, size, multiFolder } = largestFolder(messages);
  const s = { dexieIngest: [] as number[], rxdbIngest: [] as number[], storeIngest: [] as number[], storePaged: [] as number[], dexieQ: [] as number[], rxdbQ: [] as number[], storeQ: [] as number[] };
  const notes: string[] = [];
  for (let i = 0; i < reps; i++) {
    const tag = `${Date.now().toString(36)}-${i}`;
    const names = { dexie: `bench-dexie-${tag}`, rxdb: `benchrxdb${tag.replace(/-/g, '')}`, store: `bench-store-${tag}`, paged: `bench-paged-${tag}` };
    s.dexieIngest.push(await d.dexieIngest(names.dexie));
    s.rxdbIngest.push(await d.rxdbIngest(names.rxdb));
    s.storeIngest.push(await d.storeIngest(names.store, messages.length));
    s.storePaged.push(await d.storeIngest(names.paged, API_PAGE));
    await d.remove('store', names.paged);
    const dq = await d.dexieFolderQuery(names.dexie, folderId);
    const rq = await d.rxdbFolderQuery(names.rxdb, folderId);
    const sq = await d.storeFolderQuery(names.store, folderId);
    s.dexieQ.push(dq.ms);
    s.rxdbQ.push(rq.ms);
    s.storeQ.push(sq.ms);
    if (i === 0) {
      const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, k) => x === b[k]);
      if (!same(dq.ids, rq.ids)) notes.push('RxDB returned a different newest-50 than raw Dexie (tie order on equal received_at)');
      if (!same(dq.ids, sq.ids)) notes.push('the engine store returned a different newest-50 than raw Dexie');
      if (dq.ids.length !== 50) notes.push(`folder query returned ${dq.ids.length} rows`);
    }
    await d.remove('dexie', names.dexie);
    await d.remove('rxdb', names.rxdb);
    await d.remove('store', names.store);
    ctx.log(`  ${d.env} rep ${i + 1}/${reps}: ingest dexie ${s.dexieIngest[i]!.toFixed(0)} rxdb ${s.rxdbIngest[i]!.toFixed(0)} store ${s.storeIngest[i]!.toFixed(0)} (paged ${s.storePaged[i]!.toFixed(0)}) ms; query dexie ${dq.ms.toFixed(1)} rxdb ${rq.ms.toFixed(1)} store ${sq.ms.toFixed(1)} ms`);
  }
  const m = {
    dexie_ingest_ms: summarize(s.dexieIngest, 'ms'),
    rxdb_ingest_ms: summarize(s.rxdbIngest, 'ms'),
    engine_store_ingest_ms: summarize(s.storeIngest, 'ms'),
    engine_store_ingest_paged_ms: summarize(s.storePaged, 'ms'),
    dexie_folder_query_ms: summarize(s.dexieQ, 'ms'),
    rxdb_folder_query_ms: summarize(s.rxdbQ, 'ms'),
    engine_store_folder_query_ms: summarize(s.storeQ, 'ms'),
  };
  const rxOverEngine = m.rxdb_ingest_ms.median / m.engine_store_ingest_ms.median;
  const engineOverDexie = m.engine_store_ingest_ms.median / m.dexie_ingest_ms.median;
  const rxQOverEngine = m.rxdb_folder_query_ms.median / m.engine_store_folder_query_ms.median;
  const metrics: Record<string, Metric> = {
    ...m,
    rxdb_over_dexie_ingest: value('x', m.rxdb_ingest_ms.median / m.dexie_ingest_ms.median),
    rxdb_over_engine_ingest: value('x', rxOverEngine),
    engine_over_dexie_ingest: value('x', engineOverDexie),
    engine_paged_over_dexie_ingest: value('x', m.engine_store_ingest_paged_ms.median / m.dexie_ingest_ms.median),
    rxdb_over_engine_folder_query: value('x', rxQOverEngine),
    engine_over_dexie_folder_query: value('x', m.engine_store_folder_query_ms.median / m.dexie_folder_query_ms.median),
    records: value('count', messages.length),
    folder_size: value('count', size),
  };
  notes.push(
    `${messages.length} records from the simulator's generator (seed ${ctx.seed}); query folder = largest first-folder (${size} messages); ${multiFolder} records sit in more than one folder.`,
    'Peers store a flattened row: the API summary plus scalar folder_id (= folder_ids[0]) and received_at (null -> sent_at), index [folder_id+received_at]; RxDB cannot index arrays. The engine store gets the API records unchanged.',
    `engine_store_ingest_ms applies all records in one transaction (like-for-like with one bulkPut); engine_store_ingest_paged_ms commits one ${API_PAGE}-record page per transaction, as sync does.`,
    'RxDB runs on the app\'s Dexie 4.4.7 (deduped; RxDB pins 4.4.2) with eventReduce, no dev-mode, no schema validator. Its planner cannot satisfy a desc sort from an index, so it reads the whole folder range and sorts.',
  );
  if (d.env === 'node') notes.push('fake-indexeddb cursors are slow and scale worse than linearly, which dominates RxDB\'s cursor-based folder query in Node; Chromium is the realistic comparison.');
  return {
    key: `peers_${d.env}`,
    status: 'ok',
    env: d.env,
    description: `Ingest of ${messages.length} message records and newest-50-of-a-folder query: raw Dexie (limit) vs RxDB (Dexie storage) vs the engine store`,
    metrics,
    targets: [
      target('rxdb_over_engine_ingest', '>=', 2, rxOverEngine, 'engine ingest at least 2x faster than RxDB'),
      target('engine_over_dexie_ingest', '<=', 1.2, engineOverDexie, 'engine ingest within 1.2x raw Dexie bulkPut'),
      target('rxdb_over_engine_folder_query', '>=', 50, rxQOverEngine, 'engine folder query at least 50x faster than RxDB (store query; see folder_page_ms for messages$)'),
    ],
    notes,
  };
}

export const peersFigure: FigureDef = {
  keys: ['peers_node', 'peers_chromium'],
  async run(ctx) {
    const n = ctx.size(10_000, 2_000);
    const messages = await generatedMessages(ctx.seed, n);
    const out: FigureResult[] = [];
    ctx.log(`peers: ${n} records, node (fake-indexeddb)`);
    out.push(await measure(ctx, await nodeDriver(messages), messages, ctx.reps(3, 2)));
    ctx.log(`peers: ${n} records, chromium (real IndexedDB)`);
    out.push(await measure(ctx, await chromiumDriver(ctx, messages), messages, ctx.reps(5, 2)));
    return out;
  },
};
