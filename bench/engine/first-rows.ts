// first_rows_ms, shared by the Node run and the Chromium bundle: start() on an empty
// replica → the messages$ subscription made before start() emits `want` rows. As a
// cross-check, a fresh subscription is re-polled every 10 ms to see when the rows are
// in the replica at all (so a live view that fails to re-emit is told apart from a
// slow bootstrap).
import { firstValueFrom } from 'rxjs';
import type { MailboxSync } from '../../src/index.js';
import { Watch } from './watch.js';

export interface FirstRows {
  /** ms until the live subscription emitted the rows; null if it had not after the wait. */
  live: number | null;
  /** ms until a fresh subscription first returned them. */
  available: number;
}

/** Runs one measurement; the engine must be new (not started) and is cleared afterwards. */
export async function measureFirstRows(sync: MailboxSync, folderId: string, want: number, minWaitMs: number): Promise<FirstRows> {
  const q = { folderId, limit: 50 };
  const rows = new Watch(sync.messages$(q));
  const t0 = performance.now();
  const started = sync.start().catch(() => undefined);
  let available: number;
  try {
    for (;;) {
      const r = await firstValueFrom(sync.messages$(q));
      if (r.length >= want) {
        available = performance.now() - t0;
        break;
      }
      if (performance.now() - t0 > 120_000) throw new Error(`no ${want} rows in the replica after 120 s`);
      await new Promise((res) => setTimeout(res, 10));
    }
    const got = await rows.until((r) => r.length >= want, Math.max(minWaitMs, 2 * available), 'live rows').catch(() => null);
    return { live: got ? got.at - t0 : null, available };
  } finally {
    rows.close();
    await sync.clear().catch(() => undefined);
    await started;
  }
}
