// SendmuxApiError: the one error type of the API layer. docs/errors.md: branch on
// `code`, retry only when `retryable`, honour Retry-After on 429/503.

/** Client-side codes for failures that never reached a well-formed API answer. */
export type ClientErrorCode = 'network_error' | 'timeout' | 'aborted' | 'invalid_response' | 'not_modified';

/**
 * One accumulated validation issue. The spec's ApiErrorDetail names the offending
 * field `field`; `param` carries the same value (and any `param` a server sends).
 */
export interface ApiErrorIssue {
  code?: string;
  message: string;
  param?: string;
  field?: string;
}

/** Fields of a {@link SendmuxApiError}. */
export interface SendmuxApiErrorInit {
  status: number;
  code: string;
  message: string;
  param?: string;
  errors?: ApiErrorIssue[];
  retryable: boolean;
  requestId?: string;
  retryAfterMs?: number;
  docUrl?: string;
  cause?: unknown;
}

/**
 * A failed Mailbox API call.
 *
 * - `status`: HTTP status; 0 for transport failures.
 * - `code`: the API's error code (`invalid_parameter`, `not_found`, `conflict`,
 *   `rate_limit_exceeded`, ...) or a client code: `network_error`, `timeout`,
 *   `aborted`, `invalid_response` (non-JSON or not the documented shape),
 *   `not_modified` (a 304 to a caller-supplied `ifNoneMatch` with nothing cached).
 * - `retryable`: the server's verdict, or the client's for transport failures.
 * - `requestId`: `X-Request-Id` or `meta.request_id`, for support.
 * - `retryAfterMs`: from `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset`.
 *
 * Never carries the API key: messages are redacted before construction.
 */
export class SendmuxApiError extends Error {
  override readonly name = 'SendmuxApiError';
  readonly status: number;
  readonly code: string;
  readonly param?: string;
  readonly errors?: ApiErrorIssue[];
  readonly retryable: boolean;
  readonly requestId?: string;
  readonly retryAfterMs?: number;
  readonly docUrl?: string;

  /** Builds the error from the decoded response (or the client's own failure). */
  constructor(init: SendmuxApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.retryable = init.retryable;
    if (init.param !== undefined) this.param = init.param;
    if (init.errors !== undefined) this.errors = init.errors;
    if (init.requestId !== undefined) this.requestId = init.requestId;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.docUrl !== undefined) this.docUrl = init.docUrl;
  }
}

/** True for errors thrown by this client. */
export function isSendmuxApiError(value: unknown): value is SendmuxApiError {
  return value instanceof SendmuxApiError;
}

/** Replaces every occurrence of `secret` (and its Bearer form) in `text`. */
export function redact(text: string, secret: string): string {
  if (!secret) return text;
  return text.split(secret).join('[redacted]');
}

/**
 * Removes the key from a transport error before it is kept as `cause` (undici
 * errors can echo request headers). Returns a plain Error with a redacted message.
 */
export function redactCause(cause: unknown, secret: string): Error | undefined {
  if (cause === undefined || cause === null) return undefined;
  const message = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  const inner = cause instanceof Error && cause.cause instanceof Error ? `; ${cause.cause.name}: ${cause.cause.message}` : '';
  return new Error(redact(message + inner, secret));
}

/** Default retryability when the server did not say: 429 and 5xx. */
export function statusIsRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}
