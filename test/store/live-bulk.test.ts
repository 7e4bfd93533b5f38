import { liveQuery } from 'dexie';
import { testStore } from '../helpers/storage.js';
import { it } from 'vitest';
// Regression: in Node, Dexie's max key is memoized as the string "\uffff" at import
// (no global IDBKeyRange yet), so a put of 50+ values was recorded as a "full range"
// that leaves out array keys, and compound-index live queries never re-ran after a
// bootstrap page (found by the bench: first_rows_ms never emitted in Node).
import { MailboxDb } from '../../src/store/db.js';
import { eventually } from '../engine/helpers.js';

for (const n of [40, 60, 250])
it(`regression: a live range query over a compound index sees one bulkPut of ${n} rows`, async () => {
  const db = new MailboxDb(`bulk${n}`, { ...testStore().options });
  await db.open();
  const seen: number[] = [];
  const sub = liveQuery(() => db.folderIndex.where('[folder_id+received_key+id]').between(['', -Infinity], ['', Infinity], true, true).reverse().limit(50).toArray())
    .subscribe((rows) => seen.push(rows.length));
  await eventually(() => seen.length > 0, 3000, 'first');
  const rows = Array.from({ length: n }, (_, i) => ({ folder_id: '', id: `m${i}`, received_key: i }));
  await db.transaction('rw', db.folderIndex, () => db.folderIndex.bulkPut(rows));
  try {
    await eventually(() => (seen.at(-1) ?? 0) > 0, 3000, `update (seen ${seen})`);
  } finally {
    sub.unsubscribe();
    db.close();
  }
});
