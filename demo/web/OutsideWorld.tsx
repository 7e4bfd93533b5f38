// "The outside world" (simulator only): act as the network, another device, or a
// sender, through the simulator's control surface (`POST /__sim/<name>`), and
// watch the engine recover.
import { useState } from 'react';
import { Icon } from './Icon.js';

export interface OutsideWorldProps {
  controlUrl: string;
  /** Ids the "another device" actions apply to: the selection, else the open message. */
  targetIds: string[];
  onToast: (text: string, kind?: 'info' | 'error') => void;
  onClose: () => void;
}

const HOSTILE_HTML = `<p>Hello! This message tries to run a script and load a tracking pixel.</p>
<script>window.parent.postMessage('pwned', '*'); document.title = 'pwned';</script>
<img src="https://tracker.example/pixel.gif?u=1" alt="tracking pixel" width="1" height="1">
<p onclick="alert(1)">Neither should work: the body is sanitized and sandboxed.</p>`;

export function OutsideWorld(props: OutsideWorldProps) {
  const [subject, setSubject] = useState('Hello from the outside world');
  const [from, setFrom] = useState('someone@elsewhere.example');
  const [latency, setLatency] = useState(0);

  const call = async (name: string, body: unknown, done: string) => {
    try {
      const res = await fetch(`${props.controlUrl}/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      });
      if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
      props.onToast(done);
    } catch (err) {
      props.onToast(`Simulator control failed: ${String(err)}`, 'error');
    }
  };
  const targets = props.targetIds;
  const needTargets = targets.length === 0;

  return (
    <aside className="outside" data-testid="outside-world">
      <header>
        <strong>
          <Icon name="globe" size={15} /> Outside world
        </strong>
        <span className="muted">simulator control</span>
        <button type="button" className="ghost" onClick={props.onClose} aria-label="Close">
          ×
        </button>
      </header>
      <section>
        <h3>Deliver mail</h3>
        <input value={from} onChange={(e) => setFrom(e.target.value)} aria-label="From" data-testid="ow-from" />
        <input value={subject} onChange={(e) => setSubject(e.target.value)} aria-label="Subject" data-testid="ow-subject" />
        <div className="row-buttons">
          <button
            type="button"
            data-testid="ow-deliver"
            onClick={() =>
              void call('deliver', { subject, from: { email: from, name: null }, text: `${subject}\n\nSent from the outside world panel.` }, 'Delivered')
            }
          >
            Deliver
          </button>
          <button
            type="button"
            data-testid="ow-deliver-hostile"
            onClick={() =>
              void call('deliver', { subject: 'Hostile HTML test', from: { email: from, name: 'Mallory' }, html: HOSTILE_HTML }, 'Delivered hostile HTML')
            }
          >
            Deliver hostile HTML
          </button>
        </div>
      </section>
      <section>
        <h3>Another device · {targets.length === 0 ? 'select or open a message' : `${targets.length} message${targets.length === 1 ? '' : 's'}`}</h3>
        <div className="row-buttons">
          <button type="button" disabled={needTargets} data-testid="ow-read" onClick={() => void call('setFlags', { ids: targets, patch: { seen: true } }, 'Marked read elsewhere')}>
            Mark read
          </button>
          <button type="button" disabled={needTargets} data-testid="ow-unread" onClick={() => void call('setFlags', { ids: targets, patch: { seen: false } }, 'Marked unread elsewhere')}>
            Mark unread
          </button>
          <button type="button" disabled={needTargets} data-testid="ow-flag" onClick={() => void call('setFlags', { ids: targets, patch: { flagged: true } }, 'Flagged elsewhere')}>
            Flag
          </button>
          <button type="button" disabled={needTargets} data-testid="ow-trash" onClick={() => void call('trash', { ids: targets }, 'Trashed elsewhere')}>
            Trash
          </button>
        </div>
      </section>
      <section>
        <h3>Network and server</h3>
        <div className="row-buttons">
          <button type="button" data-testid="ow-expire" onClick={() => void call('expireChangeLog', {}, 'Change log expired: next sync re-lists')}>
            Expire change log
          </button>
          <button
            type="button"
            data-testid="ow-cut"
            onClick={() =>
              void (async () => {
                await call('failNext', { count: 8, status: 503 }, 'Next 8 requests will fail with 503');
                await call('cutEventStreams', {}, 'Event streams cut');
              })()
            }
          >
            Cut the network
          </button>
          <button type="button" data-testid="ow-429" onClick={() => void call('failNext', { count: 3, status: 429, retryAfterSeconds: 2 }, 'Next 3 requests: 429 Retry-After 2s')}>
            Inject 429s
          </button>
          <button type="button" data-testid="ow-500" onClick={() => void call('failNext', { count: 2, status: 500, path: '/mailbox/messages:batch-update' }, 'Next 2 batch-updates: 500')}>
            Fail next updates
          </button>
        </div>
        <label className="latency">
          Latency {latency} ms
          <input
            type="range"
            min={0}
            max={3000}
            step={100}
            value={latency}
            onChange={(e) => setLatency(Number(e.target.value))}
            onMouseUp={() => void call('setLatency', { ms: latency }, `Latency ${latency} ms`)}
            onKeyUp={() => void call('setLatency', { ms: latency }, `Latency ${latency} ms`)}
          />
        </label>
      </section>
    </aside>
  );
}
