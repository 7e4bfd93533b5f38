// Non-blocking notifications, only for what the user may act on: an action that
// can be undone, a change or a send the server refused for good, a problem that
// needs the user. Failures the engine retries by itself are the status bar's job.
export type ToastKind = 'info' | 'warn' | 'error';

export interface ToastAction {
  label: string;
  run: () => void;
}

export interface Toast {
  id: number;
  /** Notices with the same key replace each other (and count up). */
  key: string;
  kind: ToastKind;
  text: string;
  /** How many times the same message was raised (shown as ×N instead of stacking). */
  count: number;
  action?: ToastAction;
}

export function Toasts(props: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  return (
    <div className="toasts" aria-live="polite">
      {props.toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} data-testid="toast" data-kind={t.kind} role={t.kind === 'error' ? 'alert' : 'status'}>
          <span data-testid="toast-text">{t.text}</span>
          {t.count > 1 && <span className="toast-count">×{t.count}</span>}
          {t.action && (
            <button
              type="button"
              data-testid="toast-action"
              onClick={() => {
                t.action?.run();
                props.onDismiss(t.id);
              }}
            >
              {t.action.label}
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
