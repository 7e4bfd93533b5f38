// The reading pane: headers, actions, labels, attachments and the body.
//
// The body is the engine's sanitized HTML inside an iframe that is sandboxed
// WITHOUT allow-scripts and WITHOUT allow-same-origin (so even markup the sanitizer
// missed cannot run code or reach this page), with a CSP that blocks every
// network load except inline data:/blob: images: remote images and tracking pixels
// never load, unless the user asks to show them for one message ("Show images":
// that message is sanitized again with allowRemoteImages and its CSP admits
// http(s) images; nothing else changes).
import { useEffect, useMemo, useRef, useState } from 'react';
import { sanitizeHtml } from '../../src/index.js';
import { useContent, useMailboxSync, useMessage, useThread } from '../../src/react/index.js';
import type { Message } from './types.js';
import { formatAddress, formatBytes, isUnread, labelsOf, longDate, senderName, shortDate } from './format.js';
import { Icon } from './Icon.js';
import { cidResolver, useInlineImages } from './useInlineImages.js';

export const BODY_CSP = "default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'";
/** The CSP of a body whose remote images the user chose to show. */
export const BODY_CSP_REMOTE_IMAGES = "default-src 'none'; img-src data: blob: https: http:; style-src 'unsafe-inline'";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The iframe document for a body: CSP first, then the sanitized markup. */
export function bodyDocument(inner: string, remoteImages = false): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${remoteImages ? BODY_CSP_REMOTE_IMAGES : BODY_CSP}"><base target="_blank"><style>
body{font:14px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:16px 20px;word-wrap:break-word}
pre.plain{white-space:pre-wrap;font:inherit;margin:0}img{max-width:100%}a{color:#0b57d0}
img[data-sendmux-blocked]{display:inline-block;box-sizing:border-box;min-width:48px;min-height:32px;background:#eef0f3;border:1px dashed #b8bec6;border-radius:4px}
</style></head><body>${inner}</body></html>`;
}

export type ReplyMode = 'reply' | 'reply-all' | 'forward';

export interface ReadingPaneProps {
  messageId: string | null;
  onReply: (m: Message, mode: ReplyMode) => void;
  /** Back to the list (the phone layout shows one pane at a time). */
  onBack: () => void;
  onToast: (text: string, kind?: 'info' | 'warn' | 'error') => void;
  onTrash: (ids: string[]) => void;
  onToggleRead: (m: Message) => void;
  onToggleFlag: (m: Message) => void;
  onLabel: (m: Message, label: string, on: boolean) => void;
  /** Opens another message of the conversation. */
  onOpenMessage: (m: Message) => void;
}

/**
 * The conversation the open message belongs to (its thread), oldest first, as a
 * compact strip above the body: each entry opens that message. Hidden for a
 * message alone in its thread.
 */
function Conversation(props: { message: Message; onOpen: (m: Message) => void }) {
  const { message } = props;
  const messages = useThread(message.thread_id)?.messages ?? NO_MESSAGES;
  const strip = useRef<HTMLOListElement>(null);
  // Keep the open message in view inside a long conversation.
  useEffect(() => {
    const current = strip.current?.querySelector<HTMLElement>('[aria-current="true"]');
    if (current && strip.current) strip.current.scrollTop = current.offsetTop - strip.current.clientHeight / 2;
  }, [message.id, messages.length]);
  if (messages.length < 2) return null;
  return (
    <ol ref={strip} className="conversation" data-testid="conversation" data-count={messages.length} aria-label={`Conversation, ${messages.length} messages`}>
      {messages.map((m) => (
        <li key={m.id}>
          <button
            type="button"
            className={`${m.id === message.id ? 'current' : ''} ${isUnread(m) ? 'unread' : ''}`}
            data-testid="conversation-item"
            data-id={m.id}
            aria-current={m.id === message.id}
            onClick={() => m.id !== message.id && props.onOpen(m)}
          >
            <span className="from">{senderName(m.from)}</span>
            <span className="preview">{m.preview ?? m.subject ?? ''}</span>
            <span className="date">{shortDate(m.received_at)}</span>
          </button>
        </li>
      ))}
    </ol>
  );
}

const NO_MESSAGES: Message[] = [];
const WITH_HTML = { include_html: true };

export function ReadingPane(props: ReadingPaneProps) {
  const { messageId } = props;
  const sync = useMailboxSync();
  const message = useMessage(messageId);
  const content = useContent(messageId, WITH_HTML);
  const [label, setLabel] = useState('');
  // The one message whose remote images the user chose to show (reset by opening another).
  const [remoteImagesFor, setRemoteImagesFor] = useState<string | null>(null);
  const remoteImages = remoteImagesFor !== null && remoteImagesFor === messageId;
  const ready = content?.status === 'ready' ? content.content.body : null;
  const html = ready?.html ?? null;
  const images = useInlineImages(messageId, message?.attachments, html);
  const body = useMemo(() => {
    if (!ready) return null;
    if (!ready.html) return { doc: bodyDocument(`<pre class="plain">${escapeHtml(ready.text ?? '')}</pre>`), blocked: 0 };
    // Inline images still downloading (or offline) render blank first, then fill in.
    const clean = sanitizeHtml(ready.html, {
      ...(images && images !== 'loading' ? { resolveCid: cidResolver(images) } : {}),
      ...(remoteImages ? { allowRemoteImages: true } : {}),
    });
    return { doc: bodyDocument(clean.html, remoteImages), blocked: clean.blockedRemoteImages };
  }, [ready, images, remoteImages]);

  if (!messageId) {
    return (
      <section className="reading empty" data-testid="reading-pane">
        <div className="muted">Select a message to read it. Press ? for keyboard shortcuts.</div>
      </section>
    );
  }
  if (message === undefined) {
    return (
      <section className="reading empty" data-testid="reading-pane">
        <div className="muted">Loading…</div>
      </section>
    );
  }
  if (message === null) {
    return (
      <section className="reading empty" data-testid="reading-pane">
        <div className="muted">This message is no longer here.</div>
      </section>
    );
  }

  const labels = labelsOf(message);
  const toggleLabel = (name: string, on: boolean) => props.onLabel(message, name, on);

  const download = async (attachmentId: string, filename: string) => {
    try {
      const bytes = await sync.attachment(message.id, attachmentId);
      const blob = bytes instanceof Blob ? bytes : new Blob([bytes as Uint8Array<ArrayBuffer>]);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      props.onToast(`Download failed: ${String(err)}`, 'error');
    }
  };

  return (
    <section className="reading" data-testid="reading-pane" data-id={message.id}>
      <header className="reading-head">
        <div className="reading-title">
          <button type="button" className="ghost back" data-testid="back" onClick={props.onBack} aria-label="Back to the list">
            ←
          </button>
          <h1 data-testid="reading-subject">{message.subject || '(no subject)'}</h1>
        </div>
        <div className="toolbar">
          <button type="button" onClick={() => props.onReply(message, 'reply')} data-testid="reply" title="Reply (r)">
            <Icon name="reply" size={14} /> Reply
          </button>
          <button type="button" onClick={() => props.onReply(message, 'reply-all')} data-testid="reply-all" title="Reply all (a)">
            Reply all
          </button>
          <button type="button" onClick={() => props.onReply(message, 'forward')} data-testid="forward" title="Forward (f)">
            Forward
          </button>
          <button
            type="button"
            data-testid="reading-toggle-read"
            onClick={() => props.onToggleRead(message)}
          >
            {message.flags.seen ? 'Mark unread' : 'Mark read'}
          </button>
          <button
            type="button"
            data-testid="reading-toggle-flag"
            onClick={() => props.onToggleFlag(message)}
          >
            {message.flags.flagged ? '★ Unflag' : '☆ Flag'}
          </button>
          <button type="button" className="danger" data-testid="reading-trash" onClick={() => props.onTrash([message.id])} title="Move to Trash (#)">
            <Icon name="trash" size={14} /> Trash
          </button>
        </div>
        <div className="meta">
          <div>
            <strong>{senderName(message.from)}</strong>{' '}
            {message.from && <span className="muted">&lt;{message.from.email}&gt;</span>}
          </div>
          <div className="muted">To: {message.to.map(formatAddress).join(', ') || '—'}</div>
          {message.cc.length > 0 && <div className="muted">Cc: {message.cc.map(formatAddress).join(', ')}</div>}
          <div className="muted" data-testid="reading-date">{longDate(message.received_at)}</div>
        </div>
        <div className="labels" data-testid="labels">
          {labels.map((l) => (
            <span key={l} className="label">
              {l}
              <button type="button" aria-label={`Remove label ${l}`} onClick={() => toggleLabel(l, false)}>
                ×
              </button>
            </span>
          ))}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              // docs: keyword names are normalised to lowercase.
              const name = label.trim().replace(/\s+/g, '_').toLowerCase();
              if (name && !labels.includes(name)) toggleLabel(name, true);
              setLabel('');
            }}
          >
            <input
                value={label}
              onChange={(e) => setLabel(e.target.value)}
              placeholder="+ label"
              aria-label="Add label"
              data-testid="label-input"
            />
          </form>
        </div>
        {message.attachments && message.attachments.length > 0 && (
          <ul className="attachments" data-testid="attachments">
            {message.attachments.map((a) => (
              <li key={a.id}>
                <button
                  type="button"
                  data-testid="attachment"
                  onClick={() => void download(a.id, a.filename ?? 'attachment')}
                  title="Download"
                >
                  <Icon name="clip" size={13} /> {a.filename ?? 'attachment'} <span className="muted">{formatBytes(a.size_bytes)}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        <Conversation message={message} onOpen={props.onOpenMessage} />
      </header>
      <div className="body">
        {content === undefined || content.status === 'loading' ? (
          <div className="muted pad" data-testid="body-loading">
            Loading…
          </div>
        ) : content.status === 'error' ? (
          <div className="error pad" data-testid="body-error">
            Could not load this message: {content.error.message}
          </div>
        ) : (
          <>
            {body && body.blocked > 0 && (
              <div className="blocked-note" data-testid="blocked-images">
                <Icon name="shield" size={13} /> {body.blocked} remote image{body.blocked === 1 ? '' : 's'} blocked to protect your privacy
                <button type="button" data-testid="show-images" onClick={() => setRemoteImagesFor(message.id)}>
                  Show images
                </button>
              </div>
            )}
            <iframe
              key={`${message.id}:${remoteImages ? 'remote' : 'blocked'}`}
              title="Message body"
              data-testid="message-body"
              sandbox="allow-popups allow-popups-to-escape-sandbox"
              referrerPolicy="no-referrer"
              srcDoc={body?.doc ?? ''}
            />
          </>
        )}
      </div>
    </section>
  );
}
