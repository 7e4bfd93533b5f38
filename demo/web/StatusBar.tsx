import { useEffect, useState } from 'react';
import type { EngineStatus } from './engine.js';
import { relativeTime } from './format.js';

const PHASE_LABEL: Record<EngineStatus['phase'], string> = {
  idle: 'Starting',
  bootstrapping: 'Downloading mailbox',
  catching_up: 'Catching up',
  live: 'Live',
  offline: 'Offline',
  error: 'Error',
};

export function StatusBar(props: { status: EngineStatus | null; mode: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const s = props.status;
  const phase = s?.phase ?? 'idle';
  const progress = s?.progress;
  const pct = progress && progress.total ? Math.min(100, Math.round((progress.done / progress.total) * 100)) : null;
  return (
    <footer className="statusbar" data-testid="status-bar" data-phase={phase}>
      <span className={`phase phase-${phase}`} data-testid="status-phase">
        <span className="led" /> {PHASE_LABEL[phase]}
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
      <span data-testid="status-pending">
        {s?.pendingMutations ?? 0} pending change{s?.pendingMutations === 1 ? '' : 's'}
      </span>
      {s?.outbox != null && <span data-testid="status-outbox">{s.outbox} in outbox</span>}
      <span className="spacer" />
      {s?.role && <span className="muted" data-testid="status-role" data-role={s.role}>{s.role === 'leader' ? 'this tab syncs' : 'synced by another tab'}</span>}
      <span className="muted">{props.mode}</span>
      <span className="muted" data-testid="status-last-sync">
        last sync {relativeTime(s?.lastSyncedAt ?? null, now)}
      </span>
    </footer>
  );
}
