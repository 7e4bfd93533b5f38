// The "Outbox": sends queued in the engine (durable at once, sent when online,
// each with its own Idempotency-Key), shown under the folders until delivered.
import type { MailEngine, OutboxItem } from './engine.js';
import { useObservable } from './hooks.js';
import { Icon } from './Icon.js';

export function OutboxList(props: { sending: NonNullable<MailEngine['sending']> }) {
  const { sending } = props;
  const items = useObservable<OutboxItem[]>(() => sending.outbox$, [sending], []);
  if (items.length === 0) return null;
  return (
    <section className="outbox" data-testid="outbox" aria-label="Outbox">
      <h3>
        <Icon name="sent" size={14} /> Outbox <span className="badge muted-badge">{items.length}</span>
      </h3>
      {items.map((s) => (
        <div key={s.seq} className={`outbox-item ${s.status}`} data-testid="outbox-item" data-status={s.status}>
          <div className="outbox-subject">{s.subject || '(no subject)'}</div>
          <div className="muted">
            to {s.to} · {s.status === 'failed' ? <span className="error">failed: {s.error}</span> : s.status === 'sending' ? 'sending…' : 'waiting'}
          </div>
          {s.status === 'failed' && (
            <div className="row-buttons">
              <button type="button" onClick={() => void sending.retry(s.seq)}>
                Retry
              </button>
              <button type="button" className="ghost" onClick={() => void sending.discard(s.seq)}>
                Discard
              </button>
            </div>
          )}
        </div>
      ))}
    </section>
  );
}
