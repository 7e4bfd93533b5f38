// Request/response types shared by the router and the route handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ContentService } from './content.js';
import { conflict } from './errors.js';
import type { EventHub } from './events.js';
import type { Listing } from './listing.js';
import type { Params } from './params.js';
import type { QueryStates } from './querystate.js';
import type { MailboxStore } from './store.js';

export interface SimRequest {
  method: string;
  /** Path relative to the API base, e.g. `/mailbox/messages/msg_1`. */
  path: string;
  pathParams: Record<string, string>;
  query: Params;
  headers: IncomingMessage['headers'];
  body: Buffer;
  raw: IncomingMessage;
}

/** A JSON success: the server wraps it in `{ ok, data, pagination?, meta }`. */
export interface JsonReply {
  kind: 'json';
  status: number;
  data: unknown;
  pagination?: { has_more: boolean; next_cursor?: string };
  /** Extra `meta` fields (only where the spec's meta schema has them). */
  meta?: Record<string, unknown>;
  etag?: string;
  headers?: Record<string, string>;
}

export interface BytesReply {
  kind: 'bytes';
  status: number;
  bytes: Uint8Array;
  headers: Record<string, string>;
}

/** The handler takes over the response (SSE). */
export interface StreamReply {
  kind: 'stream';
  start(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): void;
}

export type Reply = JsonReply | BytesReply | StreamReply;

export interface SimContext {
  store: MailboxStore;
  content: ContentService;
  listing: Listing;
  messageQueries: QueryStates;
  folderQueries: QueryStates;
  events: EventHub;
  options: {
    pingIntervalMs?: number;
    /** Length of one stream-timing second (ping, close_after) in ms; tests shorten it. */
    secondMs: number;
    eventsEnabled: boolean;
    maxEventStreams: number;
    baseUrl: () => string;
  };
  idempotency: Map<string, { fingerprint: string; reply: JsonReply }>;
  uploads: Map<string, { filename: string; content_type: string; size_bytes: number; expiresAt: number }>;
}

export type Handler = (req: SimRequest, ctx: SimContext) => Reply | Promise<Reply>;

export function json(data: unknown, extra: Omit<JsonReply, 'kind' | 'data' | 'status'> & { status?: number } = {}): JsonReply {
  return { kind: 'json', status: extra.status ?? 200, data, ...extra };
}

/** A weak ETag for one version of one record. */
export function weakEtag(kind: string, id: string, version: number | string): string {
  return `W/"${kind}-${id}-${version}"`;
}

const opaque = (tag: string) => tag.trim().replace(/^W\//, '');

/** True when an If-None-Match header matches `etag` (weak comparison). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => t.trim() === '*' || opaque(t) === opaque(etag));
}

/** If-Match: a stale tag is a 409 conflict and nothing changes. */
export function checkIfMatch(req: SimRequest, etag: string): void {
  const header = req.headers['if-match'];
  if (header === undefined) return;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!etagMatches(value, etag)) throw conflict('The resource changed since the given ETag (If-Match).', 'If-Match');
}
