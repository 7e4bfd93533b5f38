// Message content for sendmux-sync: bodies (cache, budget, batched and conditional
// fetch), thread content, attachments with Range resume, the send queue, prefetch
// policy and the HTML sanitiser. createMailboxSync wires these into MailboxSync.
export { createContentService, DEFAULT_ATTACHMENT_BUDGET_BYTES, DEFAULT_BODY_BUDGET_BYTES } from './service.js';
export type {
  ContentReadOptions,
  ContentService,
  ContentServiceOptions,
  ContentState,
  ContentStats,
  MessageContentData,
  RawBodyData,
  RawBodyReadOptions,
} from './service.js';
export type { BodySource } from './bodies.js';
export type { ContentParams, RawBodyParams, RawPart } from './params.js';
export { threadContent$, threadContentPages } from './threadContent.js';
export type { ThreadContentDeps, ThreadContentMeta, ThreadContentOptions, ThreadContentState, ThreadMessageContent } from './threadContent.js';
export type { AttachmentFile, AttachmentReadOptions } from './attachments.js';
export { createSendQueue } from './send.js';
export type { DraftAttachment, OutboxSend, SendDraft, SendOptions, SendOutcome, SendQueue, SendQueueOptions } from './send.js';
export { buildSendRequest, isSendEntry, reduceSend } from './sendState.js';
export type { SendEntry, SendEvent, SendFailure, SendIntent, SendRequestBody, StoredAttachment, StoredDraft } from './sendState.js';
export { createPrefetcher, newestUnreadIds } from './prefetch.js';
export type { Prefetcher, PrefetcherOptions, PrefetchPolicy } from './prefetch.js';
export { BLOCKED_ATTRIBUTE, sanitizeHtml } from './sanitize.js';
export { resolveInlineImages } from './inline.js';
export type { InlineImages, InlineImagesOptions } from './inline.js';
export type { SanitizeOptions, SanitizeResult } from './sanitize.js';
export { ContentError } from './errors.js';
export type { ContentErrorCode } from './errors.js';
export { selectEvictions } from './budget.js';
export { ContentDb, defaultContentDbName } from '../store/contentDb.js';
export type { ContentDbOptions } from '../store/contentDb.js';
