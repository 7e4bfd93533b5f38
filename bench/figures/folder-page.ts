// folder_page_ms (issue 9): newest 50 of a big folder through messages$ (first
// emission of a new subscription on a fresh engine over a bootstrapped replica), and
// the same page through a raw Dexie indexed query over the same records.
import { Dexie } from 'dexie';
import type { FigureDef } from '../lib/context.js';
import { generatedMessages } from '../lib/dataset.js';
import { Watch, inboxOf, newEngine } from '../lib/engine-run.js';
import type { NodeReplica } from '../lib/engine-run.js';
import { needParts, nodeIdb } from '../lib/parts.js';
import type { IdbEnv } from '../peers/peers.js';
import { toPeerRow } from '../peers/shape.js';
import type { FigureResult } from '../lib/report.js';
import { target, unavailable, value } from '../lib/report.js';
import { summarize } from '../lib/stats.js';
import { SHARED_REPLICA } from './bootstrap.js';
import type { SharedReplica } from './bootstrap.js';

const DESCRIPTION = 'Newest 50 of a folder via messages$ (first emission, cold subscription) vs a raw Dexie indexed query on the same records (Node)';

/** Newest 50 by raw Dexie: [folder_id+received_at] for a folder, received_at for all mail. */
async function rawQuery(env: IdbEnv, name: string, folderId: string | null): Promise<number> {
  const db = new Dexie(name, { indexedDB: env.indexedDB, IDBKeyRange: env.IDBKeyRange });
  db.version(1).stores({ messages: 'id, [folder_id+received_at], received_at' });
  await db.open();
  const t0 = performance.now();
  const t = db.table('messages');
  const coll = folderId === null ? t.orderBy('received_at') : t.where('[folder_id+received_at]').between([folderId, Dexie.minKey], [folderId, Dexie.maxKey]);
  const rows = await coll.reverse().limit(50).toArray();
  const ms = performance.now() - t0;
  db.close();
  if (rows.length !== 50) throw new Error(`raw query returned ${rows.length} rows`);
  return ms;
}

export const folderPageFigure: FigureDef = {
  keys: ['folder_page_ms'],
  async run(ctx) {
    const parts = await needParts(ctx, { engine: true });
    if (typeof parts === 'string') return [unavailable('folder_page_ms', 'node', DESCRIPTION, parts)];
    const factory = parts.engine!;
    const n = ctx.size(100_000, 5_000);
    let shared = ctx.shared.get(SHARED_REPLICA) as SharedReplica | undefined;
    const notes: string[] = [];
    if (!shared || shared.messages !== n) {
      const simOptions = { seed: ctx.seed, messages: n, rateLimitPerMinute: 0 };
      const sim = await parts.sims.get(simOptions);
      const { engine, replica } = newEngine(factory, sim);
      ctx.log(`  bootstrapping a ${n}-message replica (untimed)`);
      await engine.start();
      await engine.stop();
      shared = { ...replica, messages: n, simOptions };
      ctx.shared.set(SHARED_REPLICA, shared);
    } else {
      notes.push('Reuses the replica of the last bootstrap_100k repetition.');
    }
    const sim = await parts.sims.get(shared.simOptions);
    const inbox = await inboxOf(sim);
    const replica: NodeReplica = { idb: shared.idb, dbName: shared.dbName };

    // The same records for raw Dexie, in the peers' flattened shape.
    const rawEnv = nodeIdb();
    const rawName = `bench-folder-raw-${process.pid}`;
    {
      const messages = await generatedMessages(ctx.seed, n);
      const db = new Dexie(rawName, { indexedDB: rawEnv.indexedDB, IDBKeyRange: rawEnv.IDBKeyRange });
      db.version(1).stores({ messages: 'id, [folder_id+received_at], received_at' });
      await db.table('messages').bulkPut(messages.map(toPeerRow));
      db.close();
    }

    const views = [
      { label: 'all', folderId: null as string | null, size: n },
      { label: 'inbox', folderId: inbox.id, size: inbox.total_messages },
    ];
    const engineMs: Record<string, number[]> = { all: [], inbox: [] };
    const rawMs: Record<string, number[]> = { all: [], inbox: [] };
    const reps = ctx.reps(7, 3);
    for (let i = 0; i < reps; i++) {
      for (const v of views) {
        rawMs[v.label]!.push(await rawQuery(rawEnv, rawName, v.folderId));
        const { engine } = newEngine(factory, sim, {}, replica);
        await engine.start();
        const q = v.folderId === null ? { limit: 50 } : { folderId: v.folderId, limit: 50 };
        const t0 = performance.now();
        const w = new Watch(engine.messages$(q));
        const { at } = await w.until((r) => r.length === 50, 30_000, `${v.label} newest 50`);
        engineMs[v.label]!.push(at - t0);
        w.close();
        await engine.stop();
      }
    }
    await new Dexie(rawName, { indexedDB: rawEnv.indexedDB, IDBKeyRange: rawEnv.IDBKeyRange }).delete();
    // The big replica is not needed after this figure; free it.
    ctx.shared.delete(SHARED_REPLICA);
    await new Dexie(replica.dbName, { indexedDB: replica.idb.indexedDB, IDBKeyRange: replica.idb.IDBKeyRange }).delete();

    const eAll = summarize(engineMs.all!, 'ms');
    const rAll = summarize(rawMs.all!, 'ms');
    const eIn = summarize(engineMs.inbox!, 'ms');
    const rIn = summarize(rawMs.inbox!, 'ms');
    const ratioAll = eAll.median / rAll.median;
    const ratioIn = eIn.median / rIn.median;
    notes.push(
      `The generated ${n}-message mailbox has no single ${n}-message folder (its largest, the inbox, holds ${inbox.total_messages}); "all" is the whole mailbox (messages$({ limit: 50 })), which the engine serves from the same folder index as any folder, so it is the ${n}-row case; "inbox" is the largest real folder.`,
      'Each repetition opens a new engine over the replica (start() = catch-up, untimed) and times a new messages$ subscription to its first emission. Raw Dexie: a new Dexie instance per query over the same records (flattened shape, [folder_id+received_at] and received_at indexes), reverse().limit(50).toArray().',
    );
    const result: FigureResult = {
      key: 'folder_page_ms',
      status: 'ok',
      env: 'node',
      description: DESCRIPTION,
      metrics: {
        engine_all_ms: eAll,
        raw_dexie_all_ms: rAll,
        ratio_all: value('x', ratioAll),
        engine_inbox_ms: eIn,
        raw_dexie_inbox_ms: rIn,
        ratio_inbox: value('x', ratioIn),
        all_size: value('count', n),
        inbox_size: value('count', inbox.total_messages),
      },
      targets: [target('ratio_all', '<=', 1.5, ratioAll, `${n}-row index`), target('ratio_inbox', '<=', 1.5, ratioIn)],
      notes,
    };
    return [result];
  },
};
