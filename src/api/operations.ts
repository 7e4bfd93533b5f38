// The operation table: one row per Mailbox API operation, keyed by method name
// (operationId minus the `mailbox` prefix, first letter lowercased). Hand-maintained
// from mailbox-openapi.json; test/api/operations.test.ts fails when a row drifts from
// the spec (method, path, parameters, body) or when the spec gains an operation, and
// the `satisfies` clause below fails typechecking when schema.ts gains one.
import type { MethodName } from './types.js';

/** How one Mailbox API operation is called over HTTP. */
export interface OperationSpec {
  /** HTTP method. */
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path template relative to the base URL, e.g. `/mailbox/messages/{message_id}`. */
  readonly path: string;
  /** Input keys substituted into the path template. */
  readonly pathParams: readonly string[];
  /** Input keys sent as query parameters (all others except `body`, `contentType`, `range` are rejected). */
  readonly query: readonly string[];
  /** Request body: JSON, raw bytes (`application/octet-stream`), or none. */
  readonly body: 'json' | 'binary' | null;
  /**
   * Safe to resend after a failure. docs/idempotency.md: POSTs that create things
   * (send, uploads, folders) are retried only with an Idempotency-Key; batch
   * update/delete are absolute and batch-get is a read, so they are safe.
   */
  readonly idempotent: boolean;
  /** Single-resource GET that answers `If-None-Match` with 304 (spec declares the header). */
  readonly etag: boolean;
  /** Response carries `pagination` and a `data` array (cursor pagination). */
  readonly paginated: boolean;
}

/** Every Mailbox API operation except the SSE stream (see `events()`). */
export const OPERATIONS = {
  batchDeleteMessages: { method: 'POST', path: '/mailbox/messages:batch-delete', pathParams: [], query: ['mailbox_id'], body: 'json', idempotent: true, etag: false, paginated: false },
  batchGetMessages: { method: 'POST', path: '/mailbox/messages:batch-get', pathParams: [], query: ['mailbox_id'], body: 'json', idempotent: true, etag: false, paginated: false },
  batchUpdateMessages: { method: 'POST', path: '/mailbox/messages:batch-update', pathParams: [], query: ['mailbox_id'], body: 'json', idempotent: true, etag: false, paginated: false },
  countMessages: { method: 'GET', path: '/mailbox/messages/count', pathParams: [], query: ['folder_id', 'thread_id', 'q', 'from', 'to', 'cc', 'bcc', 'subject', 'body', 'header_name', 'header_value', 'min_size_bytes', 'max_size_bytes', 'keyword', 'not_keyword', 'after', 'before', 'has_attachment', 'is_unread', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: false },
  createAttachmentUpload: { method: 'POST', path: '/mailbox/attachment-uploads', pathParams: [], query: ['mailbox_id'], body: 'json', idempotent: false, etag: false, paginated: false },
  createFolder: { method: 'POST', path: '/mailbox/folders', pathParams: [], query: ['mailbox_id'], body: 'json', idempotent: false, etag: false, paginated: false },
  deleteFolder: { method: 'DELETE', path: '/mailbox/folders/{folder_id}', pathParams: ['folder_id'], query: ['mailbox_id'], body: null, idempotent: true, etag: false, paginated: false },
  deleteMessage: { method: 'DELETE', path: '/mailbox/messages/{message_id}', pathParams: ['message_id'], query: ['permanent', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: false },
  getChanges: { method: 'GET', path: '/mailbox/changes', pathParams: [], query: ['since_state', 'types', 'messages_since_state', 'folders_since_state', 'threads_since_state', 'submissions_since_state', 'identities_since_state', 'quotas_since_state', 'limit', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: false },
  getFolder: { method: 'GET', path: '/mailbox/folders/{folder_id}', pathParams: ['folder_id'], query: ['mailbox_id'], body: null, idempotent: true, etag: true, paginated: false },
  getFolderChanges: { method: 'GET', path: '/mailbox/folders/changes', pathParams: [], query: ['since_state', 'limit', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: false },
  getIdentity: { method: 'GET', path: '/mailbox/identity', pathParams: [], query: ['mailbox_id'], body: null, idempotent: true, etag: false, paginated: false },
  getMe: { method: 'GET', path: '/mailbox/me', pathParams: [], query: ['mailbox_id'], body: null, idempotent: true, etag: true, paginated: false },
  getMessage: { method: 'GET', path: '/mailbox/messages/{message_id}', pathParams: ['message_id'], query: ['mailbox_id'], body: null, idempotent: true, etag: true, paginated: false },
  getMessageAttachment: { method: 'GET', path: '/mailbox/messages/{message_id}/attachments/{attachment_id}', pathParams: ['message_id', 'attachment_id'], query: ['mailbox_id', 'download_token'], body: null, idempotent: true, etag: false, paginated: false },
  getQuotaChanges: { method: 'GET', path: '/mailbox/quotas/changes', pathParams: [], query: ['since_state', 'limit', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: false },
  getSession: { method: 'GET', path: '/mailbox/session', pathParams: [], query: ['mailbox_id'], body: null, idempotent: true, etag: true, paginated: false },
  getSubmission: { method: 'GET', path: '/mailbox/submissions/{submission_id}', pathParams: ['submission_id'], query: ['mailbox_id'], body: null, idempotent: true, etag: true, paginated: false },
  getSubmissionChanges: { method: 'GET', path: '/mailbox/submissions/changes', pathParams: [], query: ['since_state', 'limit', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: false },
  getThread: { method: 'GET', path: '/mailbox/threads/{thread_id}', pathParams: ['thread_id'], query: ['mailbox_id'], body: null, idempotent: true, etag: true, paginated: false },
  getThreadContent: { method: 'GET', path: '/mailbox/threads/{thread_id}/content', pathParams: ['thread_id'], query: ['part', 'max_body_chars', 'strip_signature', 'strip_quotes', 'include_links', 'include_html', 'include_headers', 'include_attachments', 'cursor', 'limit', 'sort', 'mailbox_id'], body: null, idempotent: true, etag: true, paginated: true },
  listBody: { method: 'GET', path: '/mailbox/messages/{message_id}/body', pathParams: ['message_id'], query: ['part', 'max_body_chars', 'mailbox_id'], body: null, idempotent: true, etag: true, paginated: false },
  listContent: { method: 'GET', path: '/mailbox/messages/{message_id}/content', pathParams: ['message_id'], query: ['part', 'max_body_chars', 'strip_signature', 'strip_quotes', 'include_links', 'include_html', 'include_headers', 'include_attachments', 'mailbox_id'], body: null, idempotent: true, etag: true, paginated: false },
  listFolders: { method: 'GET', path: '/mailbox/folders', pathParams: [], query: ['cursor', 'limit', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: true },
  listGrantedMailboxes: { method: 'GET', path: '/mailbox/mailboxes', pathParams: [], query: ['cursor', 'limit', 'q'], body: null, idempotent: true, etag: false, paginated: true },
  listIdentities: { method: 'GET', path: '/mailbox/identities', pathParams: [], query: ['cursor', 'limit', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: true },
  listMessages: { method: 'GET', path: '/mailbox/messages', pathParams: [], query: ['cursor', 'limit', 'folder_id', 'thread_id', 'q', 'from', 'to', 'cc', 'bcc', 'subject', 'body', 'header_name', 'header_value', 'min_size_bytes', 'max_size_bytes', 'keyword', 'not_keyword', 'after', 'before', 'has_attachment', 'is_unread', 'sort_by', 'sort_direction', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: true },
  listQuotas: { method: 'GET', path: '/mailbox/quotas', pathParams: [], query: ['cursor', 'limit', 'name', 'scope', 'resource_type', 'type', 'sort_by', 'sort_direction', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: true },
  listSubmissions: { method: 'GET', path: '/mailbox/submissions', pathParams: [], query: ['cursor', 'limit', 'identity_ids', 'email_ids', 'thread_ids', 'undo_status', 'after', 'before', 'sort_by', 'sort_direction', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: true },
  listThreadMessages: { method: 'GET', path: '/mailbox/threads/{thread_id}/messages', pathParams: ['thread_id'], query: ['cursor', 'limit', 'sort', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: true },
  listThreads: { method: 'GET', path: '/mailbox/threads', pathParams: [], query: ['cursor', 'limit', 'q', 'participant', 'folder_id', 'after', 'before', 'has_attachment', 'is_unread', 'sort_direction', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: true },
  listUsage: { method: 'GET', path: '/mailbox/usage', pathParams: [], query: ['mailbox_id'], body: null, idempotent: true, etag: true, paginated: false },
  queryFolderChanges: { method: 'GET', path: '/mailbox/folders/query-changes', pathParams: [], query: ['since_query_state', 'limit', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: false },
  queryMessageChanges: { method: 'GET', path: '/mailbox/messages/query-changes', pathParams: [], query: ['since_query_state', 'limit', 'up_to_id', 'calculate_total', 'folder_id', 'q', 'from', 'to', 'cc', 'bcc', 'subject', 'body', 'header_name', 'header_value', 'min_size_bytes', 'max_size_bytes', 'keyword', 'not_keyword', 'after', 'before', 'has_attachment', 'is_unread', 'sort_by', 'sort_direction', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: false },
  searchMessageSnippets: { method: 'GET', path: '/mailbox/messages/search-snippets', pathParams: [], query: ['folder_id', 'from', 'to', 'cc', 'bcc', 'subject', 'body', 'header_name', 'header_value', 'min_size_bytes', 'max_size_bytes', 'keyword', 'not_keyword', 'after', 'before', 'has_attachment', 'is_unread', 'q', 'message_ids', 'limit', 'mailbox_id'], body: null, idempotent: true, etag: false, paginated: false },
  sendMessage: { method: 'POST', path: '/mailbox/messages/send', pathParams: [], query: ['mailbox_id'], body: 'json', idempotent: false, etag: false, paginated: false },
  updateFolder: { method: 'PATCH', path: '/mailbox/folders/{folder_id}', pathParams: ['folder_id'], query: ['mailbox_id'], body: 'json', idempotent: true, etag: false, paginated: false },
  updateIdentity: { method: 'PATCH', path: '/mailbox/identity', pathParams: [], query: ['mailbox_id'], body: 'json', idempotent: true, etag: false, paginated: false },
  updateMessage: { method: 'PATCH', path: '/mailbox/messages/{message_id}', pathParams: ['message_id'], query: ['mailbox_id'], body: 'json', idempotent: true, etag: false, paginated: false },
  uploadAttachment: { method: 'POST', path: '/mailbox/attachments:upload', pathParams: [], query: ['filename', 'mailbox_id'], body: 'binary', idempotent: false, etag: false, paginated: false },
} as const satisfies Record<MethodName, OperationSpec>;

/** Names of the operations whose responses are cursor-paginated lists (usable with `pages()`). */
export type PaginatedMethodName = {
  [K in MethodName]: (typeof OPERATIONS)[K]['paginated'] extends true ? K : never;
}[MethodName];
