// The last line of defence of the demo's UI: the package's hooks throw a view that
// failed (a storage error, a closed database) during render, which would otherwise
// unmount the whole app and leave a blank page. The boundary shows what happened, in
// plain words, and a way out; the engine keeps syncing underneath.
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  children: ReactNode;
}

interface State {
  error: Error | null;
}

export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error('sendmux demo: a view failed', error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="fatal" role="alert" data-testid="fatal">
        <h1>The mailbox could not be shown</h1>
        <p>{error.message}</p>
        <p className="muted">Your changes are kept on this device and are sent once the page works again.</p>
        <button type="button" onClick={() => window.location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}
