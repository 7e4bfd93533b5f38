// The folder views read a bounded amount of data however large the folder is:
// asserted with a Dexie middleware that counts what each query touches (not time).
import type { DBCore, DBCoreTable } from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { putServerRecords } from '../../src/store/apply.js';
import type { MailboxDb } from '../../src/store/db.js';
import { countMessages, queryMessages, queryThreads } from '../../src/store/queries.js';
import { freshDb, message } from './fixtures.js';

interface Touch {
  table: string;
  op: string;
  keys?: number;
  limit?: number;
  rows?: number;
  /** Cursor steps taken (openCursor). */
  steps?: number;
}

function counting(db: MailboxDb, log: Touch[]): void {
  db.use({
    stack: 'dbcore',
    name: 'touch-counter',
    create(down: DBCore): DBCore {
      return {
        ...down,
        table(name: string): DBCoreTable {
          const t = down.table(name);
          return {
            ...t,
            getMany: async (req) => {
              log.push({ table: name, op: 'getMany', keys: req.keys.length });
              return t.getMany(req);
            },
            query: async (req) => {
              const res = await t.query(req);
              log.push({ table: name, op: 'query', rows: res.result.length, ...(req.limit !== undefined ? { limit: req.limit } : {}) });
              return res;
            },
            count: async (req) => {
              log.push({ table: name, op: 'count' });
              return t.count(req);
            },
            openCursor: async (req) => {
              const cursor = await t.openCursor(req);
              const touch: Touch = { table: name, op: 'openCursor', steps: cursor ? 1 : 0 };
              log.push(touch);
              if (!cursor) return cursor;
              // Count every step the cursor takes.
              return Object.create(cursor, {
                continue: { value: (key?: unknown) => { touch.steps = (touch.steps ?? 0) + 1; cursor.continue(key); } },
                advance: { value: (n: number) => { touch.steps = (touch.steps ?? 0) + n; cursor.advance(n); } },
              });
            },
          };
        },
      };
    },
  });
}

let db: MailboxDb | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
});

describe('folder views at scale', () => {
  it('the newest page, unread page and counts of a 20k-message folder touch O(page) rows', async () => {
    db = freshDb();
    const log: Touch[] = [];
    counting(db, log);
    const N = 20_000;
    const base = Date.UTC(2025, 0, 1);
    for (let c = 0; c < N; c += 2000) {
      const chunk = Array.from({ length: 2000 }, (_, k) => {
        const i = c + k;
        return message({
          id: `m${String(i).padStart(6, '0')}`,
          folder_ids: ['inbox'],
          received_at: new Date(base + i * 1000).toISOString(),
          flags: { seen: i % 4 !== 0, flagged: false, draft: false, answered: false },
        });
      });
      await db.transaction('rw', db.serverTables, () => putServerRecords(db as MailboxDb, 'messages', chunk));
    }
    log.length = 0;
    const newest = await queryMessages(db, { folderId: 'inbox', limit: 50 });
    expect(newest.map((m) => m.id)).toEqual(Array.from({ length: 50 }, (_, k) => `m${String(N - 1 - k).padStart(6, '0')}`));
    const touchedRows = (t: Touch) => (t.rows ?? 0) + (t.keys ?? 0) + (t.steps ?? 0);
    expect(log.reduce((n, t) => n + touchedRows(t), 0)).toBeLessThanOrEqual(50 + 50 + 2);

    log.length = 0;
    const unread = await queryMessages(db, { folderId: 'inbox', unread: true, limit: 50 });
    expect(unread.every((m) => !m.flags.seen)).toBe(true);
    expect(unread.length).toBe(50);
    expect(log.reduce((n, t) => n + touchedRows(t), 0)).toBeLessThanOrEqual(50 + 50 + 2);

    log.length = 0;
    expect(await countMessages(db, { folderId: 'inbox', unread: true })).toBe(N / 4);
    // A count is one native count over the index range: no key or record reaches
    // JavaScript (its liveness is test/store/count-liveness.test.ts).
    expect(log.map((t) => [t.table, t.op, (t.rows ?? 0) + (t.keys ?? 0)])).toEqual([['folderIndex', 'count', 0]]);
  });

  it('the newest page of threads is a bounded walk of the received_at index', async () => {
    db = freshDb();
    const log: Touch[] = [];
    counting(db, log);
    const N = 3000;
    const base = Date.UTC(2025, 0, 1);
    const threads = Array.from({ length: N }, (_, i) => {
      const last = message({ id: `m${i}`, thread_id: `t${String(i).padStart(5, '0')}`, received_at: new Date(base + i * 1000).toISOString() });
      return {
        id: last.thread_id as string, subject: 's', message_count: 1, unread_count: i % 2, has_attachments: false, folder_ids: ['inbox'],
        participants: [], last_message: last, states: { thread_state: null, email_state: null },
      };
    });
    await db.transaction('rw', db.serverTables, () => putServerRecords(db as MailboxDb, 'threads', threads));
    log.length = 0;
    const page = await queryThreads(db, { folderId: 'inbox', unread: true, limit: 20 });
    expect(page.map((t) => t.id)).toEqual(threads.filter((t) => t.unread_count > 0).reverse().slice(0, 20).map((t) => t.id));
    const touched = log.reduce((n, t) => n + (t.rows ?? 0) + (t.keys ?? 0) + (t.steps ?? 0), 0);
    expect(touched).toBeLessThanOrEqual(2 * 20 + 2);
  });
});
