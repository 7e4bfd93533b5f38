// Compose, reply, reply all, forward. `send()` puts the draft in the engine's outbox
// at once (with an Idempotency-Key; attachments are uploaded by the engine), so the
// dialog closes immediately even offline. Undo send reopens the dialog with what
// was written (see App.tsx `send`).
import { useState } from 'react';
import type { SendDraft } from '../../src/index.js';
import type { Address, Identity } from './types.js';
import { formatBytes } from './format.js';
import { Icon } from './Icon.js';

export interface ComposeDraft {
  /** What the dialog is for (its title). */
  kind: 'new' | 'reply' | 'reply-all' | 'forward';
  /** The message replied to or forwarded (its content stays cached until the send settles). */
  relatedId?: string;
  /** Preferred sending identity (e.g. the address a replied-to message was sent to). */
  fromEmail?: string;
  to: string;
  cc: string;
  subject: string;
  body: string;
  /** Files picked to attach (a draft reopened by Undo send keeps them). */
  files?: File[];
}

export const emptyDraft = (): ComposeDraft => ({ kind: 'new', to: '', cc: '', subject: '', body: '' });

const TITLES: Record<ComposeDraft['kind'], string> = { new: 'New message', reply: 'Reply', 'reply-all': 'Reply all', forward: 'Forward' };

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
  /** The mailbox's identities (null while they load). */
  identities: Identity[] | null;
  /** Sends `draft`; `edited` is what the dialog holds, to reopen it with. */
  onSend: (draft: SendDraft, edited: ComposeDraft) => Promise<void>;
  onClose: () => void;
}) {
  const [draft, setDraft] = useState(props.initial);
  const [fromId, setFromId] = useState<string | null>(null);
  const [files, setFiles] = useState<File[]>(props.initial.files ?? []);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const field = (name: 'to' | 'cc' | 'subject' | 'body') => ({
    value: draft[name],
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value }),
  });
  const identities = props.identities ?? [];
  const from =
    identities.find((i) => i.id === fromId) ??
    identities.find((i) => i.email.toLowerCase() === props.initial.fromEmail?.toLowerCase()) ??
    identities[0] ??
    null;

  const submit = async () => {
    const to = parseAddresses(draft.to);
    const cc = parseAddresses(draft.cc);
    if (!to || to.length === 0) return setError('Add at least one valid recipient.');
    if (!cc) return setError('A Cc address is not valid.');
    setBusy(true);
    try {
      await props.onSend({
        ...(from ? { from: { email: from.email, name: from.name || null } } : {}),
        to,
        ...(cc.length ? { cc } : {}),
        subject: draft.subject,
        text_body: draft.body,
        ...(files.length
          ? { attachments: files.map((f) => ({ filename: f.name, content_type: f.type || 'application/octet-stream', data: f })) }
          : {}),
        ...(draft.relatedId ? { related_message_ids: [draft.relatedId] } : {}),
      }, { ...draft, files, ...(from ? { fromEmail: from.email } : {}) });
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
        data-kind={props.initial.kind}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <header>
          <strong>{TITLES[props.initial.kind]}</strong>
          <button type="button" className="ghost" onClick={props.onClose} aria-label="Close">
            ×
          </button>
        </header>
        <label>
          From
          <select
            data-testid="compose-from"
            value={from?.id ?? ''}
            disabled={identities.length === 0}
            onChange={(e) => setFromId(e.target.value)}
          >
            {identities.length === 0 && <option value="">{props.identities === null ? 'Loading…' : 'Mailbox default'}</option>}
            {identities.map((i) => (
              <option key={i.id} value={i.id}>
                {i.name ? `${i.name} <${i.email}>` : i.email}
              </option>
            ))}
          </select>
        </label>
        <label>
          To <input autoFocus={props.initial.to === ''} {...field('to')} data-testid="compose-to" placeholder="name@example.com" />
        </label>
        <label>
          Cc <input {...field('cc')} data-testid="compose-cc" />
        </label>
        <label>
          Subject <input {...field('subject')} data-testid="compose-subject" />
        </label>
        <textarea {...field('body')} data-testid="compose-body" rows={12} autoFocus={props.initial.to !== ''} />
        <div className="compose-files">
          <label className="file-pick">
            <Icon name="clip" size={13} /> Attach files
            <input
              type="file"
              multiple
              data-testid="compose-attach"
              onChange={(e) => {
                const picked = [...(e.target.files ?? [])];
                setFiles((fs) => [...fs, ...picked]);
                e.target.value = '';
              }}
            />
          </label>
          {files.map((f, i) => (
            <span key={`${f.name}:${i}`} className="label" data-testid="compose-file">
              {f.name} <span className="muted">{formatBytes(f.size)}</span>
              <button type="button" aria-label={`Remove ${f.name}`} onClick={() => setFiles((fs) => fs.filter((_, j) => j !== i))}>
                ×
              </button>
            </span>
          ))}
        </div>
        {error && <div className="error">{error}</div>}
        <footer>
          <button type="submit" className="primary" disabled={busy} data-testid="compose-send">
            Send
          </button>
          <span className="muted wide-only">Ctrl+Enter to send · Esc to discard</span>
        </footer>
      </form>
    </div>
  );
}
