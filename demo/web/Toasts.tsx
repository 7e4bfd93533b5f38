// Non-blocking notifications: errors stay until dismissed (or retried); info fades.
export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
  retry?: () => void;
}

export function Toasts(props: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  return (
    <div className="toasts" aria-live="polite">
      {props.toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} data-testid="toast" data-kind={t.kind} role={t.kind === 'error' ? 'alert' : 'status'}>
          <span>{t.text}</span>
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
