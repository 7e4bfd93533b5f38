// Catch-up: the downstream half of replication. Pulls typed `/mailbox/changes` for
// every type the replica holds, fetches what changed, and commits each page with its
// new tokens (DESIGN.md invariant 1). Tokens the server cannot serve incrementally
// (`sync_required`, or a 400 for a malformed/foreign token) re-list that type.
import { SendmuxApiError, type Changes } from '../api/index.js';
import {
  SYNC_TYPES,
  getSyncValue,
  getTokens,
  putServerRecords,
  setSyncValue,
  setTokens,
  sweepServerRecords,
  type RecordOf,
  type StateTokens,
  type SyncType,
} from '../store/apply.js';
import type { SyncContext } from './context.js';
import { SyncError } from './errors.js';
import { dropProvisional, readProvisional } from './provisional.js';
import { NoProgressError, PageGuard, SMALL_TYPE_COUNT, pageBudget } from './paging.js';
import { LIST_PATH, fetchChanged, listPage } from './records.js';

/** Counters of one pull (returned for tests and logging). */
export interface PullReport {
  /** `/mailbox/changes` calls made. */
  changesCalls: number;
  /** Types re-listed because their token could not be served. */
  relisted: SyncType[];
  /** Records written or removed. */
  applied: number;
}

type SinceKey = `${SyncType}_since_state`;

/** The type named by a 400's `param` (`messages_since_state` → messages). */
function typeOfParam(param: string | undefined): SyncType | undefined {
  if (!param) return undefined;
  if (param === 'since_state') return 'messages';
  return SYNC_TYPES.find((t) => param === `${t}_since_state`);
}

function isInvalidState(error: unknown): error is SendmuxApiError {
  return error instanceof SendmuxApiError && error.status === 400;
}

/** Persisted progress of a re-list (in `syncState`), so a reload resumes it. */
/** Listings of a small type tried before its token is accepted although it moved. */
const MAX_RELIST_ATTEMPTS = 3;

export interface RelistState {
  /** The type's state token captured before the first page (invariant 2). */
  captured: string;
  /** Cursor of the next page (undefined: first page, or listing done). */
  cursor?: string;
  /** Pages committed so far; page n's ids are under `relist:<type>:<n>`. */
  pages: number;
  /** Every page is committed; only the sweep is left. */
  done: boolean;
}

/** `syncState` key of a type's re-list progress. */
export const relistKey = (type: SyncType): string => `relist:${type}`;
const pageKey = (type: SyncType, n: number): string => `relist:${type}:${String(n).padStart(8, '0')}`;

/**
 * Re-lists one type (DESIGN.md "catch up": `sync_required` or a bad token) and
 * resumes after a reload. Captures the type's current state from the session first
 * (invariant 2); each page is committed through the overlay (pending local changes
 * stay applied) together with its ids and the cursor of the next page; then one
 * transaction sweeps local records no page contained and commits the captured
 * token. Ids recorded before a reload are safe to keep: anything destroyed after
 * the capture arrives as a change since the captured token.
 */
export async function relistType(ctx: SyncContext, type: SyncType): Promise<number> {
  const db = ctx.db;
  let state = await getSyncValue<RelistState>(db, relistKey(type));
  if (!state || (type === 'messages' && ctx.messageScope)) {
    const session = await ctx.api.getSession(undefined, { priority: 'background', signal: ctx.stopped });
    const captured = session.data.states[type];
    if (type === 'messages' && ctx.messageScope) return refetchHeld(ctx, captured);
    state = { captured, pages: 0, done: false };
    const fresh = state;
    await db.transaction('rw', db.syncState, () => setSyncValue(db, relistKey(type), fresh));
  }
  let applied = 0;
  let cursor = state.cursor;
  const budget = pageBudget(Math.max(await localCount(ctx, type), await localCount(ctx, 'messages'), SMALL_TYPE_COUNT), ctx.limits().listLimit);
  let guard = new PageGuard(`GET ${LIST_PATH[type]}`, budget, cursor);
  let restarted = false;
  for (let attempt = 1; ; attempt++) {
    while (!state.done) {
      ctx.stopped.throwIfAborted();
      let page;
      try {
        page = await listPage(ctx, type, cursor);
        if (page.next !== undefined) guard.more(page.next);
      } catch (error) {
        // A saved cursor can expire across a reload: list again from the first page.
        if (cursor && error instanceof SendmuxApiError && error.status === 400) {
          cursor = undefined;
          continue;
        }
        // Issue 19: a repeating or endless cursor. Report it and list once more from
        // the first page (pages already stored are written again); a second loop fails.
        if (error instanceof NoProgressError && !restarted) {
          ctx.reportError(error);
          restarted = true;
          cursor = undefined;
          guard = new PageGuard(`GET ${LIST_PATH[type]}`, budget);
          continue;
        }
        throw error;
      }
      const n: number = state.pages;
      const next: RelistState = page.next
        ? { captured: state.captured, cursor: page.next, pages: n + 1, done: false }
        : { captured: state.captured, pages: n + 1, done: true };
      const ids = page.records.map((r) => (r as { id: string }).id);
      await db.transaction('rw', db.serverTables, async () => {
        if (page.records.length > 0) await putServerRecords(db, type, page.records);
        await db.syncState.bulkPut([
          { key: pageKey(type, n), value: ids },
          { key: relistKey(type), value: next },
        ]);
      });
      applied += page.records.length;
      state = next;
      cursor = page.next;
    }
    // The list endpoints carry no state, and a server may omit from /changes an id
    // created and destroyed after our token (RFC 8620 §5.2 SHOULD): a record created
    // during the listing and destroyed later would then stay here for good. For the
    // small types, confirm the token did not move while listing; if it did, list again
    // under the newer token (the sweep below drops whatever that listing lacks).
    // Messages are too large to list twice; they keep the single pass.
    if (type === 'messages' || attempt >= MAX_RELIST_ATTEMPTS) break;
    const now = (await ctx.api.getSession(undefined, { priority: 'background', signal: ctx.stopped })).data.states[type];
    if (now === state.captured) break;
    const restart: RelistState = { captured: now, pages: 0, done: false };
    await db.transaction('rw', db.syncState, async () => {
      const old = await db.syncState.where('key').startsWith(`${relistKey(type)}:`).primaryKeys();
      await db.syncState.bulkDelete(old);
      await setSyncValue(db, relistKey(type), restart);
    });
    state = restart;
    cursor = undefined;
    guard = new PageGuard(`GET ${LIST_PATH[type]}`, budget);
  }
  const captured = state.captured;
  await db.transaction('rw', db.serverTables, async () => {
    const pages = await db.syncState.where('key').startsWith(`${relistKey(type)}:`).toArray();
    const listed = new Set<string>();
    for (const row of pages) for (const id of row.value as string[]) listed.add(id);
    applied += (await sweepServerRecords(db, type, listed)).length;
    await setTokens(db, { [type]: captured });
    await db.syncState.bulkDelete([relistKey(type), ...pages.map((r) => r.key)]);
  });
  return applied;
}

/**
 * A partial replica's "re-list": fetch every held message again (batch-get) and drop
 * the ones the server no longer has, then commit the captured token. Which messages
 * it should hold is the windows' business (their query states expire too and they
 * re-list themselves).
 */
async function refetchHeld(ctx: SyncContext, captured: string): Promise<number> {
  const held = (await ctx.db.messages.toCollection().primaryKeys()) as string[];
  const fetched = await fetchChanged(ctx, 'messages', held, held.length);
  await ctx.db.transaction('rw', ctx.db.serverTables, async () => {
    await putServerRecords(ctx.db, 'messages', fetched.records, fetched.missing);
    await setTokens(ctx.db, { messages: captured });
  });
  return fetched.records.length + fetched.missing.length;
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Refuses a changes entry that breaks the contract before anything is fetched or
 * written, so a hostile or broken response never reaches the replica: wrong shapes,
 * a stale answer (RFC 8620 §5.2: `oldState` echoes the `sinceState` sent), or more
 * ids than the `limit` asked for.
 */
function checkChanges(type: SyncType, ch: unknown, since: string | undefined, limit: number): Changes {
  const fail = (why: string) => new SyncError('protocol_error', `/mailbox/changes (${type}): ${why}`);
  if (typeof ch !== 'object' || ch === null) throw fail('entry is not an object');
  const c = ch as Record<string, unknown>;
  if (c.sync_required !== undefined && typeof c.sync_required !== 'boolean') throw fail('sync_required is not a boolean');
  if (c.sync_required === true) return ch as Changes;
  if (typeof c.new_state !== 'string' || c.new_state === '') throw fail('new_state is missing');
  if (typeof c.has_more !== 'boolean') throw fail('has_more is not a boolean');
  if (!isStringList(c.created) || !isStringList(c.updated) || !isStringList(c.destroyed)) throw fail('created/updated/destroyed are not lists of ids');
  if (typeof c.old_state === 'string' && since !== undefined && c.old_state !== since) throw fail('old_state does not echo the token sent (a stale response)');
  if (new Set([...c.created, ...c.updated, ...c.destroyed]).size > limit) throw fail(`more than the ${limit} ids asked for`);
  return ch as Changes;
}

function localCount(ctx: SyncContext, type: SyncType): Promise<number> {
  return ctx.db[type].count();
}

/**
 * Pulls changes until every type is up to date. Each response page is committed in
 * one transaction together with its tokens; records of created/updated ids are
 * fetched before the commit (messages by batch-get), ids the server no longer has
 * are removed like destroyed ones.
 */
export async function pullChanges(ctx: SyncContext): Promise<PullReport> {
  const report: PullReport = { changesCalls: 0, relisted: [], applied: 0 };
  let tokens: StateTokens = await getTokens(ctx.db);
  for (const type of SYNC_TYPES) {
    if (tokens[type] === undefined) {
      // Never synced (a type added by a migration, or lost): list it once.
      report.applied += await relistType(ctx, type);
      report.relisted.push(type);
    }
  }
  tokens = await getTokens(ctx.db);
  let pending: SyncType[] = SYNC_TYPES.filter((t) => tokens[t] !== undefined);
  // One guard per type paging through has_more (issue 19: endless paging stops).
  const guards = new Map<SyncType, PageGuard>();
  while (pending.length > 0) {
    ctx.stopped.throwIfAborted();
    const input: { types: string; limit: number } & Partial<Record<SinceKey, string>> = {
      types: pending.join(','),
      limit: ctx.limits().changesLimit,
    };
    for (const t of pending) input[`${t}_since_state`] = tokens[t];
    let data;
    try {
      report.changesCalls += 1;
      data = (await ctx.api.getChanges(input, { priority: 'background', signal: ctx.stopped })).data;
    } catch (error) {
      if (!isInvalidState(error)) throw error;
      // 400: a token the server cannot read (another server instance, corruption).
      const bad = typeOfParam(error.param);
      const relist = bad && pending.includes(bad) ? [bad] : pending;
      ctx.reportError(new SyncError('invalid_state', `state token rejected (${error.param ?? 'unknown'}); re-listing ${relist.join(', ')}`, { cause: error }));
      for (const t of relist) {
        report.applied += await relistType(ctx, t);
        report.relisted.push(t);
      }
      tokens = await getTokens(ctx.db);
      continue;
    }
    if (!('types' in data)) throw new SyncError('protocol_error', '/mailbox/changes answered the legacy shape to a typed request', { retryable: false });
    const next: SyncType[] = [];
    const relist: SyncType[] = [];
    const loops: SyncType[] = [];
    // Every entry is checked before anything is fetched or written: a type asked for
    // and not answered refuses the whole response (issue 19: it would otherwise stay
    // stale while the status says live), and nothing of any type advances.
    const entries: [SyncType, Changes][] = [];
    for (const type of pending) {
      const raw: unknown = (data.types as Partial<Record<SyncType, unknown>>)[type];
      if (raw === undefined) throw new SyncError('protocol_error', `/mailbox/changes: no answer for ${type}, which was asked for`);
      entries.push([type, checkChanges(type, raw, tokens[type], input.limit)]);
    }
    const writes: { type: SyncType; records: RecordOf[SyncType][]; destroyed: string[]; token: string }[] = [];
    for (const [type, ch] of entries) {
      if (ch.sync_required) {
        relist.push(type);
        continue;
      }
      if (ch.new_state === tokens[type] && ch.created.length + ch.updated.length + ch.destroyed.length === 0 && !ch.has_more) {
        continue; // Nothing changed: an idle poll writes nothing.
      }
      if (ch.has_more) {
        let guard = guards.get(type);
        if (!guard) {
          guard = new PageGuard(`/mailbox/changes (${type})`, pageBudget(await localCount(ctx, type), input.limit), tokens[type]);
          guards.set(type, guard);
        }
        try {
          guard.more(ch.new_state, ch.created.length + ch.updated.length + ch.destroyed.length === 0);
        } catch (error) {
          // Endless has_more (issue 19): this page is not applied; the type is re-listed.
          if (!(error instanceof NoProgressError)) throw error;
          ctx.reportError(error);
          loops.push(type);
          continue;
        }
      }
      // RFC 8620 §5.2: an id appears in at most one of created/updated/destroyed. An id
      // both changed and destroyed contradicts itself: ask the server (the fetch keeps
      // what it still has, and whatever it no longer has is removed).
      const changedIds = new Set([...ch.created, ...ch.updated]);
      const contradicted = ch.destroyed.filter((id) => changedIds.has(id));
      if (contradicted.length > 0) {
        ctx.reportError(new SyncError('protocol_error', `/mailbox/changes (${type}): ${contradicted.join(', ')} both changed and destroyed in one page; asking the server`));
      }
      const destroyed = ch.destroyed.filter((id) => !changedIds.has(id));
      let changed = [...changedIds];
      // A partial replica fetches only what it holds; windows bring in the rest.
      if (type === 'messages' && ctx.messageScope) changed = await ctx.messageScope.held(changed);
      const fetched = await fetchChanged(ctx, type, changed, await localCount(ctx, type));
      writes.push({ type, records: fetched.records, destroyed: [...new Set([...destroyed, ...fetched.missing])], token: ch.new_state });
      if (ch.has_more) next.push(type);
    }
    if (writes.length > 0) {
      await ctx.db.transaction('rw', ctx.db.serverTables, async () => {
        // Folders before messages before threads: a view never sees a message in a
        // folder the replica does not know yet within one commit.
        const order: SyncType[] = ['folders', 'messages', 'threads', 'identities', 'quotas', 'submissions'];
        writes.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
        for (const w of writes) {
          await putServerRecords(ctx.db, w.type, w.records, w.destroyed);
          // What this page fetched or removed confirms a provisional SSE record, in the
          // same commit: a snapshot written after it is provisional again, and checked.
          if (w.type === 'messages') await dropProvisional(ctx, [...w.records.map((r) => (r as { id: string }).id), ...w.destroyed]);
        }
        await setTokens(ctx.db, Object.fromEntries(writes.map((w) => [w.type, w.token])));
      });
      for (const w of writes) {
        report.applied += w.records.length + w.destroyed.length;
        tokens[w.type] = w.token;
      }
    }
    for (const type of relist) ctx.reportError(new SyncError('invalid_state', `${type}: the server asked for a full resync (sync_required); re-listing`));
    relist.push(...loops);
    for (const type of relist) {
      report.applied += await relistType(ctx, type);
      report.relisted.push(type);
      guards.delete(type);
    }
    if (relist.length > 0) tokens = await getTokens(ctx.db);
    pending = next;
  }
  report.applied += await settleProvisional(ctx);
  return report;
}

/**
 * Confirms or removes the records shown from SSE snapshots that no page of this pull
 * fetched or removed (see provisional.ts): usually none. After a re-list of messages
 * they are checked too: a snapshot may have been written after its sweep.
 */
async function settleProvisional(ctx: SyncContext): Promise<number> {
  const provisional = await readProvisional(ctx);
  if (provisional.length === 0) return 0;
  const fetched = await fetchChanged(ctx, 'messages', provisional, 0);
  await ctx.db.transaction('rw', ctx.db.serverTables, async () => {
    await putServerRecords(ctx.db, 'messages', fetched.records, fetched.missing);
    await dropProvisional(ctx, provisional);
  });
  return fetched.records.length + fetched.missing.length;
}
