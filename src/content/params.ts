// Content request parameters, normalised. Every cached body is keyed by message id
// plus the exact options that produced it, with the API's documented defaults
// filled in (docs/message-content.md, "Clean content controls"), so `{}` and
// `{ part: 'auto' }` share one cache entry, and requests always send explicit values
// (the cache never depends on a server default staying the same).
import type { MethodInput } from '../api/index.js';

/** Clean-content options, exactly the API's query parameters (`GET /messages/{id}/content`). */
export type ContentParams = Omit<MethodInput<'listContent'>, 'message_id' | 'mailbox_id'>;
/** Raw-body options (`GET /messages/{id}/body`). */
export type RawBodyParams = Omit<MethodInput<'listBody'>, 'message_id' | 'mailbox_id'>;
/** Part of a raw body. */
export type RawPart = NonNullable<RawBodyParams['part']>;

/** {@link ContentParams} with every field present. */
export type NormalizedContentParams = Required<ContentParams>;
/** {@link RawBodyParams} with every field present. */
export type NormalizedRawParams = Required<RawBodyParams>;

/** docs/message-content.md: max_body_chars defaults to 100000 for messages, 25000 per thread message. */
export const MESSAGE_MAX_BODY_CHARS = 100_000;
export const THREAD_MAX_BODY_CHARS = 25_000;

/** Fills the documented defaults of the clean-content controls. */
export function normalizeContentParams(params: ContentParams = {}, maxBodyCharsDefault = MESSAGE_MAX_BODY_CHARS): NormalizedContentParams {
  return {
    part: params.part ?? 'auto',
    max_body_chars: params.max_body_chars ?? maxBodyCharsDefault,
    strip_signature: params.strip_signature ?? true,
    strip_quotes: params.strip_quotes ?? true,
    include_links: params.include_links ?? true,
    include_html: params.include_html ?? false,
    include_headers: params.include_headers ?? 'selected',
    include_attachments: params.include_attachments ?? 'metadata',
  };
}

/** Raw bodies: `part` has no documented default, so the client always asks for one ('both'). */
export function normalizeRawParams(params: RawBodyParams = {}): NormalizedRawParams {
  return { part: params.part ?? 'both', max_body_chars: params.max_body_chars ?? MESSAGE_MAX_BODY_CHARS };
}

/** Stable text of one option set (fixed key order). */
export function variantOf(params: NormalizedContentParams | NormalizedRawParams): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${String((params as Record<string, unknown>)[k])}`)
    .join('&');
}

/** Cache key of a clean-content entry. */
export function contentKey(messageId: string, params: NormalizedContentParams): string {
  return `content|${messageId}|${variantOf(params)}`;
}

/** Cache key of a raw-body entry. */
export function rawKey(messageId: string, params: NormalizedRawParams): string {
  return `raw|${messageId}|${variantOf(params)}`;
}
