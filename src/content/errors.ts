// The content layer's one error class (STYLE.md: one typed error per layer, with a
// code). API failures keep their SendmuxApiError as `cause` so callers can read the
// server's code, status and message.

/** Codes of {@link ContentError}. */
export type ContentErrorCode =
  /** sanitizeHtml was called without a DOM (Node without a jsdom window). */
  | 'no_dom'
  /** The message (or its body) does not exist on the server. */
  | 'not_found'
  /** The server or network failed; `cause` has the SendmuxApiError. */
  | 'fetch_failed'
  /** The server answered something the client cannot use (wrong size, missing record). */
  | 'invalid_response'
  /** The attachment is not listed on the message. */
  | 'attachment_not_found'
  /** The send was rejected by the server (422, 400, 413: not retried; 409 idempotency_conflict: after bounded resends). */
  | 'send_rejected'
  /** The send entry is not in the outbox (already delivered or discarded). */
  | 'send_unknown'
  /** The service was stopped. */
  | 'stopped';

/** An error of the content layer (bodies, attachments, sends, sanitiser). */
export class ContentError extends Error {
  override readonly name = 'ContentError';
  readonly code: ContentErrorCode;

  /** `cause` keeps the underlying failure (often a `SendmuxApiError`). */
  constructor(code: ContentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
