// Non-blocking notifications: errors stay until dismissed (or retried); info and
// warnings (failures the engine retries by itself) fade.
export type ToastKind = 'info' | 'warn' | 'error';

export interface Toast {
  id: number;
  /** Notices with the same key replace each other (and count up). */
  key: string;
  kind: ToastKind;
  text: string;
  /** How many times the same message was raised (shown as ×N instead of stacking). */
  count: number;
  retry?: () => void;
}

export function Toasts(props: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  return (
    <div className="toasts" aria-live="polite">
      {props.toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} data-testid="toast" data-kind={t.kind} role={t.kind === 'error' ? 'alert' : 'status'}>
          <span>{t.text}</span>
          {t.count > 1 && <span className="toast-count">×{t.count}</span>}
          {t.retry && (
            <button
              type="button"
              data-testid="toast-retry"
              onClick={() => {
                t.retry?.();
                props.onDismiss(t.id);
              }}
            >
              Retry
            </button>
          )}
          <button type="button" className="ghost" aria-label="Dismiss" onClick={() => props.onDismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
