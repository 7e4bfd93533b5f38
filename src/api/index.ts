// sendmux-sync/api: the typed Mailbox API client (HTTP + SSE). No storage here.
export { createMailboxApi, DEFAULT_BASE_URL, type MailboxApi, type MailboxApiOptions } from './client.js';
export { SendmuxApiError, isSendmuxApiError, type ApiErrorIssue, type ClientErrorCode, type SendmuxApiErrorInit } from './errors.js';
export { newIdempotencyKey } from './idempotency.js';
export {
  RateLimiter,
  createRateLimitState,
  observeRateLimitHeaders,
  pauseUntil,
  recordSend,
  waitTime,
  type Priority,
  type RateLimitState,
  type RateLimiterOptions,
} from './rateLimiter.js';
export { OPERATIONS, type OperationSpec, type PaginatedMethodName } from './operations.js';
export { KNOWN_EVENT_TYPES, type EventSourceConstructor, type EventSourceLike, type EventSourceFetch } from './events.js';
export { backoffDelay, type Clock, type RetryPolicy } from './retry.js';
export { retryAfterMsFrom } from './envelope.js';
export type * from './types.js';
