import { useEffect, useState } from 'react';
import { connectionView, type EngineStatus, type RecentFailure } from './connection.js';
import { relativeTime } from './format.js';

/**
 * The connection in plain words (see connection.ts), bootstrap progress, what is
 * waiting to be sent, which tab syncs, and when the last sync was. `data-phase` is
 * the engine's own phase; `data-state` is what the bar says.
 */
export function StatusBar(props: { status: EngineStatus | null; lastFailure: RecentFailure | null; mode: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const s = props.status;
  const phase = s?.phase ?? 'idle';
  const view = connectionView(s, props.lastFailure, now);
  const progress = s?.progress;
  const pct = progress && progress.total ? Math.min(100, Math.round((progress.done / progress.total) * 100)) : null;
  const pending = s?.pendingMutations ?? 0;
  return (
    <footer className="statusbar" data-testid="status-bar" data-phase={phase} data-state={view.state}>
      <span className={`phase state-${view.state}`} data-testid="status-phase" title={view.detail}>
        <span className="led" /> {view.label}
      </span>
      {progress && phase !== 'live' && (
        <span className="progress" data-testid="bootstrap-progress" data-done={progress.done} data-total={progress.total ?? ''}>
          <span className="bar">
            <span className="fill" style={{ width: `${pct ?? 0}%` }} />
          </span>
          {progress.done.toLocaleString()}
          {progress.total != null && ` / ${progress.total.toLocaleString()}`} messages
        </span>
      )}
      <span data-testid="status-pending" className={pending === 0 ? 'muted wide-only' : ''}>
        {pending === 0 ? 'all changes saved' : `${pending} change${pending === 1 ? '' : 's'} to send`}
      </span>
      {s?.outbox != null && s.outbox > 0 && <span data-testid="status-outbox">{s.outbox} message{s.outbox === 1 ? '' : 's'} sending</span>}
      <span className="spacer" />
      {s?.role && (
        <span className="muted wide-only" data-testid="status-role" data-role={s.role}>
          {s.role === 'leader' ? 'this tab syncs' : 'synced by another tab'}
        </span>
      )}
      <span className="muted wide-only">{props.mode}</span>
      <span className="muted" data-testid="status-last-sync" title={s?.lastSyncedAt ? new Date(s.lastSyncedAt).toLocaleString() : undefined}>
        synced {relativeTime(s?.lastSyncedAt ?? null, now)}
      </span>
    </footer>
  );
}
