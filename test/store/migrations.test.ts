// Schema migrations keep existing replicas: a database written by the v1 schema opens
// with the current one, data intact and every current index usable.
import { Dexie } from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { MailboxDb } from '../../src/store/db.js';
import { membershipsOf } from '../../src/store/memberships.js';
import { queryMessages } from '../../src/store/queries.js';
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

describe('schema migrations', () => {
  it('a v1 replica opens with the current schema, data and tokens intact', async () => {
    const factory = new IDBFactory();
    const old = new Dexie('migrate-me', { indexedDB: factory, IDBKeyRange });
    old.version(1).stores(V1);
    await old.open();
    const records = [message({ id: 'a', received_at: '2026-01-01T00:00:00.000Z' }), message({ id: 'b', received_at: '2026-01-02T00:00:00.000Z' })];
    await old.table('messages').bulkPut(records);
    await old.table('memberships').bulkPut(records.flatMap(membershipsOf));
    await old.table('syncState').put({ key: 'state:messages', value: 'tok1' });
    old.close();

    const db = new MailboxDb('migrate-me', { indexedDB: factory, IDBKeyRange });
    await db.open();
    try {
      expect(db.verno).toBeGreaterThanOrEqual(3);
      expect((await queryMessages(db, { folderId: 'inbox' })).map((m) => m.id)).toEqual(['b', 'a']);
      expect(await db.syncState.get('state:messages')).toEqual({ key: 'state:messages', value: 'tok1' });
      expect(await db.table('windows').count()).toBe(0);
      expect(db.memberships.schema.indexes.map((i) => i.name)).not.toContain('id');
    } finally {
      db.close();
    }
  });
});
