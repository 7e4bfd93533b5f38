// Schema migrations keep existing replicas: a database written by the v1 schema opens
// with the current one, data intact and every current index usable.
import { Dexie } from 'dexie';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/api/types.js';
import { MailboxDb } from '../../src/store/db.js';
import { membershipsOf } from '../../src/store/memberships.js';
import { countMessages, queryMessages } from '../../src/store/queries.js';
import { testStore, type TestStore } from '../helpers/storage.js';
import { message } from './fixtures.js';

// The v1 schema exactly as first released (do not edit: it is history).
const V1 = {
  messages: 'id, thread_id',
  memberships: '[folder_id+id], id, [folder_id+received_key], [folder_id+unread+received_key], [folder_id+flagged+received_key]',
  threads: 'id, *folder_ids',
  folders: 'id',
  identities: 'id',
  submissions: 'id',
  quotas: 'id',
  syncState: 'key',
  outbox: '++seq, status, *ids',
  shadows: 'id',
  folderBases: 'id',
  threadBases: 'id',
};

/** A membership row as v1–v5 wrote it: keyed [folder_id+id], flags always 0/1. */
function v1Memberships(m: Message) {
  const received_key = Date.parse(m.received_at ?? '');
  return [...new Set(['', ...m.folder_ids])].map((folder_id) => ({
    folder_id,
    id: m.id,
    received_key,
    unread: m.flags.seen ? 0 : 1,
    flagged: m.flags.flagged ? 1 : 0,
  }));
}

/** A Dexie database on `store` with an old schema, as an earlier release opened it. */
function oldDatabase(name: string, store: TestStore): Dexie {
  const options = store.options;
  if ('storage' in options) {
    const driver = options.storage.driver;
    const db = new Dexie(name, { indexedDB: driver.indexedDB, IDBKeyRange: driver.IDBKeyRange });
    driver.attach?.(db);
    return db;
  }
  return new Dexie(name, options);
}

describe.each(['indexeddb', 'sqlite'] as const)('schema migrations (%s)', (backend) => {
  it('a v1 replica opens with the current schema, data and tokens intact; v6 rebuilds the folder index in time order', async () => {
    const store = testStore(backend);
    const old = oldDatabase('migrate-me', store);
    old.version(1).stores(V1);
    await old.open();
    const records = [
      message({ id: 'a', received_at: '2026-01-01T00:00:00.000Z', flags: { seen: true, flagged: true, answered: false, draft: false } }),
      message({ id: 'b', received_at: '2026-01-02T00:00:00.000Z', flags: { seen: false, flagged: false, answered: false, draft: false } }),
      message({ id: 'c', received_at: '2026-01-03T00:00:00.000Z', folder_ids: ['archive'], flags: { seen: true, flagged: false, answered: false, draft: false } }),
    ];
    await old.table('messages').bulkPut(records);
    await old.table('memberships').bulkPut(records.flatMap(v1Memberships));
    await old.table('syncState').put({ key: 'state:messages', value: 'tok1' });
    old.close();

    const db = new MailboxDb('migrate-me', { ...store.options });
    await db.open();
    try {
      expect(db.verno).toBeGreaterThanOrEqual(6);
      expect(db.tables.map((t) => t.name)).not.toContain('memberships');
      expect((await queryMessages(db, { folderId: 'inbox' })).map((m) => m.id)).toEqual(['b', 'a']);
      expect((await queryMessages(db, {})).map((m) => m.id)).toEqual(['c', 'b', 'a']);
      expect(await db.syncState.get('state:messages')).toEqual({ key: 'state:messages', value: 'tok1' });
      expect(await db.table('windows').count()).toBe(0);
      // Rebuilt from the messages: time-ordered keys, flags present only when true.
      const rows = await db.folderIndex.toArray();
      expect(rows).toEqual(
        [...records.flatMap(membershipsOf)].sort((x, y) => (x.folder_id < y.folder_id ? -1 : x.folder_id > y.folder_id ? 1 : x.received_key - y.received_key)),
      );
      expect(rows.find((r) => r.id === 'a' && r.folder_id === 'inbox')).toEqual({ folder_id: 'inbox', id: 'a', received_key: Date.parse('2026-01-01T00:00:00.000Z'), flagged: 1 });
      expect(await db.folderIndex.where('[folder_id+unread+received_key]').between(['', 1, -Infinity], ['', 1, Infinity]).primaryKeys()).toEqual([
        ['', Date.parse('2026-01-02T00:00:00.000Z'), 'b'],
      ]);
      expect((await queryMessages(db, { unread: false })).map((m) => m.id)).toEqual(['c', 'a']);
      expect((await queryMessages(db, { flagged: true })).map((m) => m.id)).toEqual(['a']);
      expect(await countMessages(db, { unread: false })).toBe(2);
      expect(await countMessages(db, { folderId: 'inbox', flagged: false })).toBe(1);
    } finally {
      db.close();
    }
  });
});
