// Inline images (`<img src="cid:…">`): the message's image attachments that carry
// a Content-ID, downloaded through the engine and turned into data: URLs. data:
// rather than blob: because the body iframe has an opaque origin (sandbox without
// allow-same-origin) and its CSP allows only data: and blob: images; a data: URL
// needs no cross-origin blob lookup.
import { useEffect, useState } from 'react';
import { useMailboxSync } from '../../src/react/index.js';
import type { Attachment } from './types.js';

const normalize = (cid: string) => cid.trim().replace(/^<|>$/g, '');
const RASTER = /^image\/(png|gif|jpe?g|webp|bmp|avif)$/i;

async function toDataUrl(blob: Blob, type: string): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${type};base64,${btoa(binary)}`;
}

/**
 * Content-ID → data: URL for the inline images of one message; 'loading' while
 * they download, null when the body references none.
 */
export function useInlineImages(
  messageId: string | null,
  attachments: readonly Attachment[] | undefined,
  html: string | null,
): ReadonlyMap<string, string> | null | 'loading' {
  const sync = useMailboxSync();
  const [state, setState] = useState<{ key: string; map: ReadonlyMap<string, string> } | null>(null);
  const inline = (attachments ?? []).filter((a) => a.content_id && RASTER.test(a.content_type));
  const wanted = html !== null && /cid:/i.test(html) && inline.length > 0;
  const key = `${messageId}:${inline.map((a) => a.id).join(',')}`;

  useEffect(() => {
    if (!wanted || !messageId) return undefined;
    const download = async (id: string, attachmentId: string): Promise<Blob> => {
      const bytes = await sync.attachment(id, attachmentId);
      return bytes instanceof Blob ? bytes : new Blob([bytes as Uint8Array<ArrayBuffer>]);
    };
    let cancelled = false;
    void Promise.all(
      inline.map(async (a): Promise<[string, string] | null> => {
        try {
          return [normalize(a.content_id as string), await toDataUrl(await download(messageId, a.id), a.content_type)];
        } catch {
          return null; // that image stays blank
        }
      }),
    ).then((pairs) => {
      if (!cancelled) setState({ key, map: new Map(pairs.filter((p): p is [string, string] => p !== null)) });
    });
    return () => {
      cancelled = true;
    };
    // `key` identifies the message and its inline attachments.
  }, [sync, key, wanted]);

  if (!wanted) return null;
  return state?.key === key ? state.map : 'loading';
}

/** Resolver for sanitizeHtml's `resolveCid`. */
export function cidResolver(images: ReadonlyMap<string, string>): (contentId: string) => string | undefined {
  return (contentId) => images.get(normalize(contentId));
}
