/**
 * `sendmux-sync/api` — the typed Sendmux Mailbox API client (HTTP + SSE). No storage.
 *
 * ```ts
 * import { createMailboxApi, SendmuxApiError, newIdempotencyKey } from 'sendmux-sync/api';
 * const api = createMailboxApi({ apiKey, baseUrl, mailboxId });       // baseUrl defaults to the real service
 * const { data: session } = await api.getSession();                   // typed from mailbox-openapi.json
 * for await (const page of api.pages('listMessages', { limit: 100 }, { priority: 'background' })) page.data;
 * await api.batchUpdateMessages({ body: { ids, seen: true, if_in_state } });
 * await api.sendMessage({ body }, { idempotencyKey: newIdempotencyKey() }); // retried only with a key
 * api.events({ lastEventId }).subscribe((e) => e.type);              // SSE: 'open', 'message.received', ...
 * ```
 *
 * - One method per spec operation (operationId minus `mailbox`), input = path + query
 *   parameters (snake_case) plus `body`; second argument {@link CallOptions}.
 * - Failures are {@link SendmuxApiError} (`status`, `code`, `retryable`, `requestId`, `retryAfterMs`).
 * - Retries 429/5xx/network/timeout with full-jitter backoff honouring Retry-After and
 *   X-RateLimit-Reset; non-idempotent POSTs only with an Idempotency-Key.
 * - A client-side rate limiter keeps the key under budget; 'user' calls overtake 'background'.
 * - Single-resource GETs revalidate with If-None-Match from a small LRU; a 304 resolves
 *   with the cached data and `notModified: true`.
 *
 * @module
 */
export { createMailboxApi, DEFAULT_BASE_URL, type MailboxApi, type MailboxApiOptions, type ServerWait } from './client.js';
export { SendmuxApiError, isSendmuxApiError, type ApiErrorIssue, type ClientErrorCode, type SendmuxApiErrorInit } from './errors.js';
export { newIdempotencyKey } from './idempotency.js';
export type { Priority, RateLimiterOptions } from './rateLimiter.js';
export { OPERATIONS, type OperationSpec, type PaginatedMethodName } from './operations.js';
export { KNOWN_EVENT_TYPES, type EventSourceConstructor, type EventSourceLike, type EventSourceFetch } from './events.js';
export type { Clock, RetryPolicy } from './retry.js';
export { MAX_SERVER_WAIT_MS } from './envelope.js';
export type * from './types.js';
