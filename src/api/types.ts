// Public types of the Mailbox API client. Everything request- or response-shaped is
// derived from the generated spec types (schema.ts), so a spec change flows into
// the client's signatures; test/api/types.test.ts pins that with expectTypeOf.
import type { components, operations } from './schema.js';

type Schemas = components['schemas'];

// ---------------------------------------------------------------------------
// Record aliases (snake_case fields exactly as the API returns them)
// ---------------------------------------------------------------------------

/** A message as listed (`GET /mailbox/messages`, batch-get, query windows). */
export type Message = Schemas['MailboxMessageSummary'];
/** A message with bodies and attachments (`GET /mailbox/messages/{message_id}`). */
export type MessageDetail = Schemas['MailboxMessage'];
/** A thread as listed (`GET /mailbox/threads`). */
export type Thread = Schemas['MailboxThreadSummary'];
/** A thread with its message ids (`GET /mailbox/threads/{thread_id}`). */
export type ThreadDetail = Schemas['MailboxThread'];
/** A folder (`GET /mailbox/folders`). */
export type Folder = Schemas['MailboxFolder'];
/** A sender identity (`GET /mailbox/identities`). */
export type Identity = Schemas['MailboxIdentity'];
/** A quota record (`GET /mailbox/quotas`). */
export type Quota = Schemas['MailboxQuota'];
/** A send submission (`GET /mailbox/submissions`). */
export type Submission = Schemas['MailboxSubmission'];
/** Capabilities, limits, state tokens and gated features (`GET /mailbox/session`). */
export type Session = Schemas['MailboxSession'];
/** Legacy message-only changes (`GET /mailbox/changes` without `types`). */
export type Changes = Schemas['MailboxChanges'];
/** Typed changes per resource type (`GET /mailbox/changes?types=...`). */
export type TypedChanges = Schemas['MailboxTypedChanges'];
/** The data of one SSE event from `/mailbox/events`. */
export type RealtimeEvent = Schemas['MailboxRealtimeEvent'];
/** Parsed message content (`GET /mailbox/messages/{message_id}/content`). */
export type MessageContent = Schemas['MailboxMessageContent'];
/** Raw message bodies (`GET /mailbox/messages/{message_id}/body`). */
export type RawBody = Schemas['MailboxRawBody'];
/** One attachment's metadata. */
export type Attachment = Schemas['MailboxAttachment'];
/** An email address with optional display name. */
export type Address = Schemas['MailboxAddress'];
/** The mailbox the credential is scoped to (`GET /mailbox/me`). */
export type Me = Schemas['MailboxMe'];
/** A mailbox granted to a connected app (`GET /mailbox/mailboxes`). */
export type GrantedMailbox = Schemas['GrantedMailbox'];
/** Compact usage view (`GET /mailbox/usage`). */
export type Usage = Schemas['MailboxUsage'];
/** Message list changes for a filter (`GET /mailbox/messages/query-changes`). */
export type MessageQueryChanges = Schemas['MailboxMessageQueryChanges'];
/** Folder list changes (`GET /mailbox/folders/query-changes`). */
export type FolderQueryChanges = Schemas['MailboxFolderQueryChanges'];
/** The API's error envelope (`ok: false`). */
export type ApiErrorBody = Schemas['ApiError'];
/** One accumulated validation issue of an error envelope. */
export type ApiErrorDetail = Schemas['ApiErrorDetail'];
/** Cursor pagination block of list responses. */
export type CursorPagination = Schemas['CursorPagination'];

// ---------------------------------------------------------------------------
// Operation-derived method types
// ---------------------------------------------------------------------------

/** Spec operationIds served by request/response methods (the SSE stream is `events()`). */
export type OperationId = Exclude<keyof operations, 'mailboxStreamEvents'>;
/** Client method name of an operationId: `mailboxListMessages` → `listMessages`. */
export type MethodNameOf<O extends string> = O extends `mailbox${infer R}` ? Uncapitalize<R> : never;
/** Every request/response method name of the client. */
export type MethodName = MethodNameOf<OperationId>;
/** The operationId behind a method name: `listMessages` → `mailboxListMessages`. */
export type OperationIdOf<M extends MethodName> = Extract<`mailbox${Capitalize<M>}`, OperationId>;

type Op<M extends MethodName> = operations[OperationIdOf<M>];
type ParamsOf<M extends MethodName> = Op<M>['parameters'];
// openapi-typescript writes absent groups as `path?: never`; NonNullable turns those into never.
type Group<G> = [NonNullable<G>] extends [never] ? unknown : NonNullable<G>;
type PathParamsOf<M extends MethodName> = Group<ParamsOf<M>['path']>;
type QueryParamsOf<M extends MethodName> = Group<ParamsOf<M>['query']>;

type RequestContentOf<M extends MethodName> = Op<M> extends { requestBody?: infer B }
  ? [NonNullable<B>] extends [never]
    ? never
    : NonNullable<B> extends { content: infer C }
      ? C
      : never
  : never;

/** Raw bytes accepted by the binary upload. */
export type BinaryBody = Blob | Uint8Array | ArrayBuffer;

type BodyInputOf<M extends MethodName> = [RequestContentOf<M>] extends [never]
  ? unknown
  : RequestContentOf<M> extends { 'application/json': infer J }
    ? { /** JSON request body, as in the spec. */ body: J }
    : {
        /** Raw bytes (`application/octet-stream`). */
        body: BinaryBody;
        /** Content-Type sent with the bytes; defaults to the Blob's type or `application/octet-stream`. */
        contentType?: string;
      };

type RangeInputOf<M extends MethodName> = M extends 'getMessageAttachment'
  ? { /** Byte range to fetch (`Range: bytes=start-end`, end inclusive). */ range?: { start: number; end?: number } }
  : unknown;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The single input object of a method: the operation's path and query parameters
 * (snake_case, as in the spec) plus `body` when it has a request body.
 */
export type MethodInput<M extends MethodName> = Simplify<
  PathParamsOf<M> & QueryParamsOf<M> & BodyInputOf<M> & RangeInputOf<M>
>;

type JsonResponseOf<M extends MethodName> =
  Op<M>['responses'] extends { 200: { content: { 'application/json': infer B } } }
    ? B
    : Op<M>['responses'] extends { 201: { content: { 'application/json': infer B } } }
      ? B
      : never;

// Distributes over unions (getChanges answers either the legacy or the typed shape).
type DataFrom<B> = B extends { data: infer D } ? D : never;
type MetaFrom<B> = B extends { meta?: infer X } ? NonNullable<X> : never;

/** The `data` of a method's success response. */
export type MethodData<M extends MethodName> = DataFrom<JsonResponseOf<M>>;
/** The `meta` of a method's success response (always has `request_id`). */
export type MethodMeta<M extends MethodName> = MetaFrom<JsonResponseOf<M>> & { request_id: string };

/** What every successful call resolves to. */
export interface ApiResponse<T, M extends { request_id: string } = { request_id: string }> {
  /** The envelope's `data`. */
  data: T;
  /** Present on cursor-paginated lists. */
  pagination?: { has_more: boolean; next_cursor?: string };
  /** The envelope's `meta` (request id plus any operation-specific fields). */
  meta: M;
  /** HTTP status (304 when answered from the ETag cache). */
  status: number;
  /** The response's `ETag`, when sent. */
  etag?: string;
  /** True when a 304 was answered from the ETag cache. */
  notModified?: boolean;
}

/** `getMessageAttachment` result: raw bytes plus range information. */
export interface AttachmentResponse extends ApiResponse<Uint8Array> {
  /** `Content-Range` header of a 206 answer (`bytes 0-99/1234`). */
  contentRange?: string;
  /** `Content-Type` of the bytes. */
  contentType?: string;
  /** Full size of the attachment when known (from `Content-Range` or `Content-Length` of a 200). */
  totalSize?: number;
}

/** The resolved value of a method. */
export type MethodResult<M extends MethodName> = M extends 'getMessageAttachment'
  ? AttachmentResponse
  : ApiResponse<MethodData<M>, MethodMeta<M>>;

/** Per-call options accepted as the last argument of every method. */
export interface CallOptions {
  /** Cancels the request and any wait (rate limiter, backoff) it is in. */
  signal?: AbortSignal;
  /** Limiter priority: 'user' calls overtake queued 'background' ones. Default 'user'. */
  priority?: 'user' | 'background';
  /** Extra request headers (cannot override Authorization). */
  headers?: Record<string, string>;
  /** Sends `If-None-Match`; by default the ETag cache supplies it for single-resource GETs. */
  ifNoneMatch?: string;
  /** Sends `If-Match` (optimistic concurrency on PATCH/DELETE). */
  ifMatch?: string;
  /** Sends `Idempotency-Key`; makes non-idempotent POSTs (send, uploads, createFolder) retryable. */
  idempotencyKey?: string;
  /** `false` disables retries for this call. */
  retry?: boolean;
  /** Per-attempt timeout in ms (overrides `MailboxApiOptions.timeoutMs`). */
  timeoutMs?: number;
}

type IsOptionalInput<T> = object extends T ? true : false;

/** Arguments of a method: `[input, options?]`, where `input` may be omitted when nothing in it is required. */
export type MethodArgs<M extends MethodName> =
  IsOptionalInput<MethodInput<M>> extends true ? [input?: MethodInput<M>, options?: CallOptions] : [input: MethodInput<M>, options?: CallOptions];

/** A client method: `(input, options?) => Promise<result>`. */
export type MethodFn<M extends MethodName> = (...args: MethodArgs<M>) => Promise<MethodResult<M>>;

/** Options of `events()`: the SSE stream `/mailbox/events`. */
export interface EventsOptions {
  /** Only these event types (`message.received`, `message.received.spam`). */
  eventTypes?: string[];
  /** Resume after this event id (sent as `Last-Event-ID`). */
  lastEventId?: string;
  /** Server heartbeat interval in seconds, clamped to the spec's 10–300. Default 15. */
  ping?: number;
  /** Ask the server to close after this many seconds (30–3600); the client reconnects. */
  closeAfter?: number;
  /** Reconnect when nothing (event or heartbeat) arrives for this long. Default `ping * 2000 + 5000`. */
  heartbeatTimeoutMs?: number;
  /** Cancels the stream (same as unsubscribing). */
  signal?: AbortSignal;
}

/** One item of the `events()` Observable. `{ type: 'open' }` marks each (re)connection. */
export interface MailboxStreamEvent {
  /** The SSE `id` (use as `lastEventId` to resume). */
  id?: string;
  /** The SSE event name (`message.received`, `message.received.spam`, `sync_required`, `open`). */
  type: string;
  /** Parsed JSON data (`RealtimeEvent` for documented types); the raw string when not JSON. */
  data: RealtimeEvent | unknown;
}
