// The full-text index's part in a database, built from its role alone, so that the
// thread that writes (this one, or the SQL thread) builds the same hooks: the replica
// indexes its messages, the content cache its bodies' text (into the replica's index,
// in the same file).
import type { Message } from '../../api/types.js';
import { CONTENT_DB_SUFFIX, type BodyRow } from '../contentDb.js';
import { storedValue, tablePrefix, type FullTextParts, type FullTextRole } from './core.js';
import { ftsTables, hasPending, indexBodies, indexMessages, setupFts } from './fts.js';

/**
 * The hooks and set-up of the database `dbName` in `role`. `wake` is called when
 * messages were queued for the filler (a bulk write defers its indexing to it).
 */
export function fullTextParts(role: FullTextRole, dbName: string, wake: (() => void) | undefined): FullTextParts {
  if (role === 'replica') {
    const tables = ftsTables(tablePrefix(dbName));
    return {
      hooks: {
        messages: [
          (conn, changes) => {
            const queued = indexMessages(
              conn,
              tables,
              changes.map((c) => ({ id: c.key as string, previous: c.previous as Message | undefined, next: c.next as Message | undefined })),
              { defer: wake !== undefined },
            );
            if (queued > 0) wake?.();
          },
        ],
      },
      setup(conn, rows) {
        // A replica written before the index (or this layout of it) existed: every
        // message it holds is queued for the filler.
        if (setupFts(conn, tables)) {
          const queue = conn.db.prepare(`INSERT INTO ${tables.pending} (id) VALUES (?)`);
          for (const [key] of rows('messages')) queue.run(key as string);
        }
        // Queued by this run or left by an earlier one (a crash, an exit mid-fill).
        if (hasPending(conn, tables)) wake?.();
      },
    };
  }
  if (role === 'content') {
    const tables = ftsTables(tablePrefix(dbName.slice(0, -CONTENT_DB_SUFFIX.length)));
    return {
      hooks: {
        bodies: [
          (conn, changes) => {
            const bodies: Array<{ id: string; text: string | null }> = [];
            for (const { previous, next } of changes) {
              const row = (next ?? previous) as BodyRow | undefined;
              if (!row || row.kind !== 'content') continue;
              const body = row.data.body as { text?: string | null } | null | undefined;
              bodies.push({ id: row.message_id, text: next ? (body?.text ?? null) : null });
            }
            try {
              indexBodies(conn, tables, bodies, (id) => storedValue(conn, tables.messages, id) as Message | undefined);
            } catch (error) {
              // The replica's index is not there (a content cache opened on its own).
              if (!/no such table/.test((error as Error).message)) throw error;
            }
          },
        ],
      },
    };
  }
  return {};
}
