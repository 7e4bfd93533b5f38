// The "Outbox": sends queued in the engine (durable at once, sent when online,
// each with its own Idempotency-Key), shown under the folders until delivered. A
// send in its undo window says so; Undo is on its toast (and `z`).
import { useMailboxSync } from '../../src/react/index.js';
import { useOutbox } from './hooks.js';
import { Icon } from './Icon.js';

export function OutboxList() {
  const sync = useMailboxSync();
  const items = useOutbox() ?? [];
  if (items.length === 0) return null;
  return (
    <section className="outbox" data-testid="outbox" aria-label="Outbox">
      <h3>
        <Icon name="sent" size={14} /> Outbox <span className="badge muted-badge">{items.length}</span>
      </h3>
      {items.map((s) => (
        <div key={s.seq} className={`outbox-item ${s.status}`} data-testid="outbox-item" data-status={s.status}>
          <div className="outbox-subject">{s.draft.subject || '(no subject)'}</div>
          <div className="muted">
            to {s.draft.to.map((a) => a.email).join(', ')} ·{' '}
            {s.status === 'failed' ? <span className="error">failed: {s.error?.message}</span> : s.status === 'sending' ? 'sending…' : 'waiting'}
          </div>
          {s.status === 'failed' && (
            <div className="row-buttons">
              <button type="button" onClick={() => void sync.retrySend(s.seq)}>
                Retry
              </button>
              <button type="button" className="ghost" onClick={() => void sync.discardSend(s.seq)}>
                Discard
              </button>
            </div>
          )}
        </div>
      ))}
    </section>
  );
}
