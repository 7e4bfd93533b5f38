// Records shown from an SSE snapshot before the server confirmed them through
// `/mailbox/changes`. A snapshot can arrive after its message was already created
// and destroyed (both changes consumed by an earlier pull); nothing would ever
// remove it then. So each provisional id is checked once by the next pull: a page
// that fetched or removed the id confirms it in the same commit (a snapshot written
// after that commit is provisional again), and whatever is still provisional when
// the pull ends is fetched by batch-get (usually nothing) and removed when the server
// no longer has it.
import type { SyncContext } from './context.js';

/** Key of the provisional id list in `syncState`. */
export const PROVISIONAL_KEY = 'provisional';

/** Marks ids as provisional (inside the caller's transaction over `syncState`). */
export async function addProvisional(ctx: SyncContext, ids: readonly string[]): Promise<void> {
  const row = await ctx.db.syncState.get(PROVISIONAL_KEY);
  const current = Array.isArray(row?.value) ? (row.value as string[]) : [];
  await ctx.db.syncState.put({ key: PROVISIONAL_KEY, value: [...new Set([...current, ...ids])] });
}

/** Reads the provisional ids. */
export async function readProvisional(ctx: SyncContext): Promise<string[]> {
  const row = await ctx.db.syncState.get(PROVISIONAL_KEY);
  return Array.isArray(row?.value) ? (row.value as string[]) : [];
}

/** Removes ids from the provisional list (inside the caller's transaction over `syncState`). */
export async function dropProvisional(ctx: SyncContext, ids: Iterable<string>): Promise<void> {
  const done = new Set(ids);
  const current = await readProvisional(ctx);
  const rest = current.filter((id) => !done.has(id));
  // Nothing provisional, or none of these: no write (most pages).
  if (rest.length === current.length) return;
  if (rest.length === 0) await ctx.db.syncState.delete(PROVISIONAL_KEY);
  else await ctx.db.syncState.put({ key: PROVISIONAL_KEY, value: rest });
}
