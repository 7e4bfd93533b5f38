// Network side of the body cache. Misses requested in the same tick are collected
// and sent together: one id → the single-resource endpoint (which carries an ETag
// for later revalidation), several → `POST /mailbox/messages:batch-get` with
// `body_mode: clean_json` (or `raw`), at most 100 ids a call (MailboxBatchGetBody
// maxItems). Revalidation is a conditional GET (If-None-Match → 304).
import { SendmuxApiError } from '../api/index.js';
import type { CallOptions, MailboxApi, MessageContent, RawBody } from '../api/index.js';
import { ContentError } from './errors.js';
import type { NormalizedContentParams, NormalizedRawParams } from './params.js';
import { variantOf } from './params.js';

/** The client methods the body fetcher uses. */
export type BodyApi = Pick<MailboxApi, 'listContent' | 'listBody' | 'batchGetMessages'>;

/** Limiter priority of a request (`background` for prefetch and revalidation). */
export type Priority = NonNullable<CallOptions['priority']>;

/** One body to fetch. */
export type BodyRequest =
  | { kind: 'content'; messageId: string; params: NormalizedContentParams }
  | { kind: 'raw'; messageId: string; params: NormalizedRawParams };

/** A fetched body and the validator to revalidate it with. */
export type FetchedBody =
  | { kind: 'content'; messageId: string; data: NonNullable<MessageContent>; etag?: string }
  | { kind: 'raw'; messageId: string; data: NonNullable<RawBody>; etag?: string };

/** Options of {@link BodyFetcher}. */
export interface BodyFetcherOptions {
  api: BodyApi;
  /** Runs `fn` once the current tick's requests are in. Default `setTimeout(fn, 0)`. */
  schedule?: (fn: () => void) => void;
  /** Ids per batch-get call (1–100). Default 100. */
  maxBatch?: number;
}

interface Waiter {
  request: BodyRequest;
  resolve: (body: FetchedBody) => void;
  reject: (error: ContentError) => void;
}

interface Group {
  kind: BodyRequest['kind'];
  params: BodyRequest['params'];
  priority: Priority;
  waiters: Map<string, Waiter[]>;
}

/** Maps a client failure to the content layer's error. */
export function toContentError(error: unknown, what: string): ContentError {
  if (error instanceof ContentError) return error;
  if (error instanceof SendmuxApiError) {
    if (error.status === 404) return new ContentError('not_found', `${what}: not found (${error.message})`, { cause: error });
    return new ContentError('fetch_failed', `${what}: ${error.message}`, { cause: error });
  }
  return new ContentError('fetch_failed', `${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** True for a 304 the client could not answer from its own ETag cache. */
function isNotModified(error: unknown): boolean {
  return error instanceof SendmuxApiError && (error.status === 304 || error.code === 'not_modified');
}

/** Batches and sends body requests. */
export class BodyFetcher {
  readonly #api: BodyApi;
  readonly #schedule: (fn: () => void) => void;
  readonly #maxBatch: number;
  readonly #groups = new Map<string, Group>();
  #scheduled = false;
  #stopped = false;
  /** Requests sent, by shape (for tests and diagnostics). */
  readonly counters = { single: 0, batch: 0, conditional: 0, notModified: 0 };

  constructor(options: BodyFetcherOptions) {
    this.#api = options.api;
    this.#schedule = options.schedule ?? ((fn) => void setTimeout(fn, 0));
    this.#maxBatch = Math.min(100, Math.max(1, Math.floor(options.maxBatch ?? 100)));
  }

  /** Queues `request` for this tick's batch; resolves with the fetched body. */
  fetch(request: BodyRequest, priority: Priority = 'user'): Promise<FetchedBody> {
    if (this.#stopped) return Promise.reject(new ContentError('stopped', 'content service stopped'));
    const groupKey = `${request.kind}|${variantOf(request.params)}|${priority}`;
    let group = this.#groups.get(groupKey);
    if (!group) {
      group = { kind: request.kind, params: request.params, priority, waiters: new Map() };
      this.#groups.set(groupKey, group);
    }
    const g = group;
    const promise = new Promise<FetchedBody>((resolve, reject) => {
      const list = g.waiters.get(request.messageId) ?? [];
      list.push({ request, resolve, reject });
      g.waiters.set(request.messageId, list);
    });
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
    return promise;
  }

  /**
   * Conditional GET of one body: `'not_modified'` when the server answers 304 to
   * `etag`, else the new body.
   */
  async revalidate(request: BodyRequest, etag: string | undefined, priority: Priority = 'background'): Promise<FetchedBody | 'not_modified'> {
    this.counters.conditional += 1;
    try {
      const body = await this.#single(request, { priority, ...(etag ? { ifNoneMatch: etag } : {}) });
      if (body === 'not_modified') this.counters.notModified += 1;
      return body;
    } catch (error) {
      if (isNotModified(error)) {
        this.counters.notModified += 1;
        return 'not_modified';
      }
      throw toContentError(error, `revalidating ${request.kind} of ${request.messageId}`);
    }
  }

  /** Rejects everything queued and refuses new requests. */
  stop(): void {
    this.#stopped = true;
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    for (const g of groups) for (const list of g.waiters.values()) for (const w of list) w.reject(new ContentError('stopped', 'content service stopped'));
  }

  #flush(): void {
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    for (const group of groups) {
      const ids = [...group.waiters.keys()];
      for (let i = 0; i < ids.length; i += this.#maxBatch) {
        const chunk = ids.slice(i, i + this.#maxBatch);
        void this.#send(group, chunk);
      }
    }
  }

  async #send(group: Group, ids: string[]): Promise<void> {
    const settle = (id: string, outcome: FetchedBody | ContentError) => {
      for (const w of group.waiters.get(id) ?? []) {
        if (outcome instanceof ContentError) w.reject(outcome);
        else w.resolve(outcome);
      }
    };
    if (ids.length === 1) {
      const id = ids[0] as string;
      const first = group.waiters.get(id)?.[0];
      if (!first) return;
      try {
        const body = await this.#single(first.request, { priority: group.priority });
        // A 304 on a plain GET happens when the client's own ETag cache validated it;
        // the client then returns its cached copy, so 'not_modified' is not expected here.
        settle(id, body === 'not_modified' ? new ContentError('invalid_response', `no body for ${id}`) : body);
      } catch (error) {
        settle(id, toContentError(error, `fetching ${group.kind} of ${id}`));
      }
      return;
    }
    this.counters.batch += 1;
    try {
      const res = await this.#api.batchGetMessages(
        { body: group.kind === 'content' ? { ids, body_mode: 'clean_json', ...(group.params as NormalizedContentParams) } : { ids, body_mode: 'raw', ...(group.params as NormalizedRawParams) } },
        { priority: group.priority },
      );
      const found = new Set<string>();
      for (const item of res.data.messages) {
        const id = item.message.id;
        found.add(id);
        if (group.kind === 'content') {
          if (item.content) settle(id, { kind: 'content', messageId: id, data: item.content });
          else settle(id, new ContentError('invalid_response', `batch-get returned no clean content for ${id}`));
        } else if (item.raw_body) settle(id, { kind: 'raw', messageId: id, data: item.raw_body });
        else settle(id, new ContentError('invalid_response', `batch-get returned no raw body for ${id}`));
      }
      for (const id of res.data.not_found) {
        found.add(id);
        settle(id, new ContentError('not_found', `message ${id} not found`));
      }
      for (const id of ids) if (!found.has(id)) settle(id, new ContentError('invalid_response', `batch-get did not answer for ${id}`));
    } catch (error) {
      if (error instanceof SendmuxApiError && error.status === 404) {
        // Some servers answer the whole batch with 404 when an id is unknown; fall
        // back to one request per id so the others still load.
        await Promise.all(ids.map((id) => this.#send(group, [id])));
        return;
      }
      const failure = toContentError(error, `batch-get of ${ids.length} ${group.kind} bodies`);
      for (const id of ids) settle(id, failure);
    }
  }

  async #single(request: BodyRequest, call: CallOptions): Promise<FetchedBody | 'not_modified'> {
    this.counters.single += 1;
    if (request.kind === 'content') {
      const res = await this.#api.listContent({ message_id: request.messageId, ...request.params }, call);
      if (call.ifNoneMatch && res.notModified && res.etag === call.ifNoneMatch) return 'not_modified';
      if (!res.data) throw new ContentError('invalid_response', `no clean content for ${request.messageId}`);
      return { kind: 'content', messageId: request.messageId, data: res.data, ...(res.etag ? { etag: res.etag } : {}) };
    }
    const res = await this.#api.listBody({ message_id: request.messageId, ...request.params }, call);
    if (call.ifNoneMatch && res.notModified && res.etag === call.ifNoneMatch) return 'not_modified';
    if (!res.data) throw new ContentError('invalid_response', `no raw body for ${request.messageId}`);
    return { kind: 'raw', messageId: request.messageId, data: res.data, ...(res.etag ? { etag: res.etag } : {}) };
  }
}
