// `GET /mailbox/threads/{thread_id}/content`: clean content of every message of a
// thread, cursor-paginated (docs/message-content.md: `cursor`, `limit` 1–100,
// default 25; max_body_chars defaults to 25000 per thread message). Pages are
// followed to the end; each message's content is also written to the body cache so a
// later content$ with the same options is served locally.
import { Observable } from 'rxjs';
import type { MailboxApi, MessageContent, MethodMeta } from '../api/index.js';
import type { BodyCache } from './bodies.js';
import type { ContentError } from './errors.js';
import { toContentError } from './fetchBodies.js';
import type { Priority } from './fetchBodies.js';
import type { ContentParams } from './params.js';
import { THREAD_MAX_BODY_CHARS, normalizeContentParams } from './params.js';

/** Options of a thread content read: the clean-content controls plus paging. */
export interface ThreadContentOptions extends ContentParams {
  /** Messages per page (1–100). Default 100, to keep the number of pages small. */
  limit?: number;
  /** Message order within the thread. */
  sort?: 'asc' | 'desc';
  /** Limiter priority. Default 'user'. */
  priority?: Priority;
}

/** The thread-level meta of the last page read (participants, state tokens, option hash). */
export type ThreadContentMeta = MethodMeta<'getThreadContent'>;

/** Clean content of one message of a thread. */
export type ThreadMessageContent = NonNullable<MessageContent>;

/** Emissions of `thread$(id, { withContent: true })`: messages accumulate as pages arrive. */
export type ThreadContentState =
  | { status: 'loading'; messages: ThreadMessageContent[] }
  | { status: 'ready'; messages: ThreadMessageContent[]; meta: ThreadContentMeta | undefined }
  | { status: 'error'; messages: ThreadMessageContent[]; error: ContentError };

/** What thread content reads need. */
export interface ThreadContentDeps {
  api: Pick<MailboxApi, 'pages'>;
  /** When given, every message read is stored in the body cache. */
  bodies?: BodyCache;
}

/**
 * Reads every page of a thread's clean content, in order. Each page's messages are
 * stored in the body cache (when given) before the page is yielded.
 */
export async function* threadContentPages(
  deps: ThreadContentDeps,
  threadId: string,
  options: ThreadContentOptions = {},
  signal?: AbortSignal,
): AsyncGenerator<{ messages: ThreadMessageContent[]; meta: ThreadContentMeta | undefined }> {
  const { limit = 100, sort, priority = 'user', ...content } = options;
  const params = normalizeContentParams(content, THREAD_MAX_BODY_CHARS);
  const pages = deps.api.pages(
    'getThreadContent',
    { thread_id: threadId, ...params, limit, ...(sort ? { sort } : {}) },
    { priority, ...(signal ? { signal } : {}) },
  );
  for await (const page of pages) {
    const messages = page.data.filter((m): m is ThreadMessageContent => m !== null);
    if (deps.bodies) {
      for (const m of messages) {
        await deps.bodies.store({ kind: 'content', messageId: m.id, data: m }, { kind: 'content', messageId: m.id, params });
      }
    }
    yield { messages, meta: page.meta };
  }
}

/**
 * A thread's clean content as an Observable: `loading` (with the messages so far)
 * after each page, then `ready` with all of them, or `error` keeping what arrived.
 * Unsubscribing cancels the remaining requests.
 */
export function threadContent$(deps: ThreadContentDeps, threadId: string, options: ThreadContentOptions = {}): Observable<ThreadContentState> {
  return new Observable<ThreadContentState>((subscriber) => {
    const controller = new AbortController();
    const messages: ThreadMessageContent[] = [];
    subscriber.next({ status: 'loading', messages: [] });
    void (async () => {
      let meta: ThreadContentMeta | undefined;
      try {
        for await (const page of threadContentPages(deps, threadId, options, controller.signal)) {
          messages.push(...page.messages);
          meta = page.meta;
          if (controller.signal.aborted) return;
          subscriber.next({ status: 'loading', messages: [...messages] });
        }
        subscriber.next({ status: 'ready', messages: [...messages], meta });
        subscriber.complete();
      } catch (error) {
        if (controller.signal.aborted) return;
        subscriber.next({ status: 'error', messages: [...messages], error: toContentError(error, `thread ${threadId} content`) });
        subscriber.complete();
      }
    })();
    return () => controller.abort();
  });
}
