// Inline images of an HTML body: `<img src="cid:…">` refers to an attachment by its
// Content-ID (RFC 2392). This downloads those attachments through the attachment
// cache and hands sanitizeHtml a `resolveCid` that maps each Content-ID to an object
// URL, plus `revoke()` to release the URLs when the body is no longer shown.
import type { Attachment } from '../api/index.js';
import type { ContentService } from './service.js';

/** Result of {@link resolveInlineImages}. */
export interface InlineImages {
  /** Pass to `sanitizeHtml(html, { resolveCid })`. */
  resolveCid(contentId: string): string | undefined;
  /** Content-IDs that could not be downloaded (their images stay blank). */
  failed: string[];
  /** Revokes every object URL created here. */
  revoke(): void;
}

/** Options of {@link resolveInlineImages}. */
export interface InlineImagesOptions {
  /** Default `URL.createObjectURL` (browsers, Node ≥ 16). */
  createObjectURL?: (blob: Blob) => string;
  /** Default `URL.revokeObjectURL`. */
  revokeObjectURL?: (url: string) => void;
  signal?: AbortSignal;
}

/** `<logo@x>` and `logo@x` name the same part; matching is case-sensitive per RFC 2392 but brackets are not part of the id. */
function normalize(contentId: string): string {
  return contentId.trim().replace(/^<|>$/g, '');
}

/**
 * Downloads the inline image attachments of a message (those with a `content_id`
 * and an `image/*` type) and returns a resolver for sanitizeHtml.
 */
export async function resolveInlineImages(
  content: Pick<ContentService, 'attachmentFile'>,
  messageId: string,
  attachments: readonly Attachment[],
  options: InlineImagesOptions = {},
): Promise<InlineImages> {
  const create = options.createObjectURL ?? ((blob: Blob) => URL.createObjectURL(blob));
  const revoke = options.revokeObjectURL ?? ((url: string) => URL.revokeObjectURL(url));
  const urls = new Map<string, string>();
  const failed: string[] = [];
  const inline = attachments.filter((a) => a.content_id && a.content_type.toLowerCase().startsWith('image/') && !a.content_type.toLowerCase().includes('svg'));
  await Promise.all(
    inline.map(async (a) => {
      const cid = normalize(a.content_id as string);
      try {
        const file = await content.attachmentFile(messageId, a.id, { priority: 'user', ...(options.signal ? { signal: options.signal } : {}) });
        urls.set(cid, create(new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: a.content_type })));
      } catch {
        failed.push(cid);
      }
    }),
  );
  return {
    resolveCid: (contentId) => urls.get(normalize(contentId)),
    failed,
    revoke() {
      for (const url of urls.values()) revoke(url);
      urls.clear();
    },
  };
}
