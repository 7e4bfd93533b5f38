// State-token endpoints: /mailbox/changes (legacy and typed), the per-type change
// endpoints, folders/query-changes, and the SSE stream.
import { SimError, invalidParam } from './errors.js';
import { REALTIME_EVENT_TYPES } from './events.js';
import { json, type Handler, type SimContext } from './http.js';
import { sortRecords } from './query.js';
import type { Changes, Folder, ObjectType } from './types.js';
import { OBJECT_TYPES } from './types.js';

/** Changes of one type since `since` (omitted: the current state, no changes). */
function changesFor(ctx: SimContext, type: ObjectType, since: string | undefined, param: string, limit: number): Changes {
  const log = ctx.store.log;
  const current = log.stateOf(type);
  const none = { has_more: false, created: [], updated: [], destroyed: [] };
  if (since === undefined) return { old_state: null, new_state: current, ...none };
  const check = log.check(type, since);
  if (check.kind === 'malformed') throw invalidParam(param, `${param} is not a valid ${type} state token.`);
  // docs/sync.md: a token older than the retained log cannot be served incrementally.
  if (check.kind === 'expired') return { old_state: since, new_state: current, ...none, sync_required: true };
  return log.changes(type, check.seq, limit);
}

const readLimit = (ctx: Parameters<Handler>[0]) => ctx.query.int('limit', { min: 1, max: 500, default: 50 }) ?? 50;

const getChanges: Handler = (req, ctx) => {
  const limit = readLimit(req);
  const types = req.query.list('types');
  if (!types) {
    // Legacy shape: message changes only (docs/sync.md "Typed mailbox changes").
    return json(changesFor(ctx, 'messages', req.query.str('since_state'), 'since_state', limit));
  }
  const out: Partial<Record<ObjectType, Changes>> = {};
  for (const t of types) {
    if (!(OBJECT_TYPES as readonly string[]).includes(t)) throw invalidParam('types', `Unknown type "${t}". Supported: ${OBJECT_TYPES.join(', ')}.`);
    const type = t as ObjectType;
    const param = `${type}_since_state`;
    let since = req.query.str(param);
    let used = param;
    if (since === undefined && type === 'messages' && req.query.has('since_state')) {
      since = req.query.str('since_state');
      used = 'since_state';
    }
    out[type] = changesFor(ctx, type, since, used, limit);
  }
  return json({ types: out });
};

const typeChanges =
  (type: ObjectType): Handler =>
  (req, ctx) =>
    json(changesFor(ctx, type, req.query.str('since_state'), 'since_state', readLimit(req)));

/** Folder list order: sort_order, then name, then id. */
export const folderSortKey = (f: Folder): string => `${String(f.sort_order ?? 999_999).padStart(8, '0')}|${f.name.toLowerCase()}`;

export function sortedFolders(ctx: SimContext): Folder[] {
  const folders = [...ctx.store.folders.values()].map((f) => f.folder);
  const r = sortRecords(folders, folderSortKey, (f) => f.id, 'asc');
  const byId = new Map(folders.map((f) => [f.id, f]));
  return r.ids.map((id) => byId.get(id) as Folder);
}

const folderQueryChanges: Handler = (req, ctx) => {
  const limit = req.query.int('limit', { min: 1, max: 500, default: 500 }) ?? 500;
  const folders = sortedFolders(ctx);
  const result = { ids: folders.map((f) => f.id), keys: folders.map(folderSortKey), direction: 'asc' as const };
  return json(ctx.folderQueries.changes('folders', result, String(ctx.store.log.seqOf('folders')), req.query.str('since_query_state'), { limit, calculateTotal: true }));
};

const streamEvents: Handler = (req, ctx) => {
  const p = req.query;
  const types = p.list('event_types');
  if (types) for (const t of types) if (!(REALTIME_EVENT_TYPES as readonly string[]).includes(t)) throw invalidParam('event_types', `Unknown event type "${t}".`);
  const ping = p.int('ping', { min: 10, max: 300, default: 30 }) ?? 30;
  const closeAfter = p.int('close_after', { min: 30, max: 3600 });
  const header = req.headers['last-event-id'];
  const lastEventId = p.str('last_event_id') ?? (Array.isArray(header) ? header[0] : header);
  if (!ctx.options.eventsEnabled) throw new SimError(503, 'service_unavailable', 'Realtime events are unavailable for this mailbox.');
  if (ctx.events.openCount >= ctx.options.maxEventStreams) throw new SimError(429, 'rate_limit_exceeded', 'Too many realtime connections for this key.', { retryAfterSeconds: 5 });
  return {
    kind: 'stream',
    start: (raw, res, headers) =>
      ctx.events.open(raw, res, {
        eventTypes: new Set(types ?? REALTIME_EVENT_TYPES),
        pingMs: ctx.options.pingIntervalMs ?? ping * ctx.options.secondMs,
        ...(closeAfter !== undefined ? { closeAfterMs: closeAfter * ctx.options.secondMs } : {}),
        ...(lastEventId !== undefined && lastEventId !== '' ? { lastEventId } : {}),
        headers,
      }),
  };
};

export const syncRoutes: Array<[string, string, Handler]> = [
  ['GET', '/mailbox/changes', getChanges],
  ['GET', '/mailbox/folders/changes', typeChanges('folders')],
  ['GET', '/mailbox/quotas/changes', typeChanges('quotas')],
  ['GET', '/mailbox/submissions/changes', typeChanges('submissions')],
  ['GET', '/mailbox/folders/query-changes', folderQueryChanges],
  ['GET', '/mailbox/events', streamEvents],
];
