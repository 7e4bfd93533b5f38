// Compose / reply. `send()` puts the draft in the engine's outbox at once (with an
// Idempotency-Key), so the dialog closes immediately even offline.
import { useState } from 'react';
import type { Address, Draft } from './types.js';

export interface ComposeDraft {
  /** The message replied to (its content stays cached until the send settles). */
  relatedId?: string;
  to: string;
  cc: string;
  subject: string;
  body: string;
}

/** "Ada <ada@x.io>, bob@y.io" → addresses. Returns null when one is not an email. */
export function parseAddresses(text: string): Address[] | null {
  const out: Address[] = [];
  for (const raw of text.split(/[,;]/)) {
    const part = raw.trim();
    if (!part) continue;
    const m = /^(.*)<([^>]+)>$/.exec(part);
    const name = m ? (m[1] ?? '').trim().replace(/^"|"$/g, '') : '';
    const email = (m ? (m[2] ?? '') : part).trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return null;
    out.push({ email, name: name || null });
  }
  return out;
}

export function Compose(props: {
  initial: ComposeDraft;
  onSend: (draft: Draft & { related_message_ids?: string[] }) => Promise<void>;
  onClose: () => void;
}) {
  const [draft, setDraft] = useState(props.initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const field = (name: keyof ComposeDraft) => ({
    value: draft[name],
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value }),
  });

  const submit = async () => {
    const to = parseAddresses(draft.to);
    const cc = parseAddresses(draft.cc);
    if (!to || to.length === 0) return setError('Add at least one valid recipient.');
    if (!cc) return setError('A Cc address is not valid.');
    setBusy(true);
    try {
      await props.onSend({
        to,
        ...(cc.length ? { cc } : {}),
        subject: draft.subject,
        text_body: draft.body,
        ...(draft.relatedId ? { related_message_ids: [draft.relatedId] } : {}),
      });
      props.onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <div className="modal-backdrop" onKeyDown={(e) => e.key === 'Escape' && props.onClose()}>
      <form
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void submit();
          }
        }}
        className="compose"
        data-testid="compose"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <header>
          <strong>{props.initial.subject.startsWith('Re:') ? 'Reply' : 'New message'}</strong>
          <button type="button" className="ghost" onClick={props.onClose} aria-label="Close">
            ×
          </button>
        </header>
        <label>
          To <input autoFocus {...field('to')} data-testid="compose-to" placeholder="name@example.com" />
        </label>
        <label>
          Cc <input {...field('cc')} data-testid="compose-cc" />
        </label>
        <label>
          Subject <input {...field('subject')} data-testid="compose-subject" />
        </label>
        <textarea {...field('body')} data-testid="compose-body" rows={12} />
        {error && <div className="error">{error}</div>}
        <footer>
          <button type="submit" className="primary" disabled={busy} data-testid="compose-send">
            Send
          </button>
          <span className="muted">Ctrl+Enter to send · Esc to discard</span>
        </footer>
      </form>
    </div>
  );
}
