// Issue 19, point 2, engine side: a long server-imposed wait is reported on errors$
// (code rate_limited) instead of freezing the engine silently; the pull that met it
// settles (rejects) rather than waiting days.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncError } from '../../src/index.js';
import type { Simulator } from '../../src/sim/index.js';
import type { SyncEngine } from '../../src/engine.js';
import { snapshotDiff } from '../chaos/checks.js';
import type { HostileFetch } from './hostileFetch.js';
import { startHostileRig } from './rig.js';

let sim: Simulator;
let proxy: HostileFetch;
let engine: SyncEngine;
let errors: SyncError[];

beforeEach(async () => {
  ({ sim, proxy, engine, errors } = await startHostileRig({ dbName: 'waits' }));
});

afterEach(async () => {
  await engine.sync.stop();
  await sim.close();
});

const TOO_MANY = JSON.stringify({ ok: false, error: { code: 'rate_limit_exceeded', message: 'Too many requests', retryable: true }, meta: { request_id: 'req_429' } });

describe('long server waits are reported (issue 19)', () => {
  it('a 429 with Retry-After: 999999 on /mailbox/changes is reported as rate_limited and the pull settles', async () => {
    await sim.control.deliver({ subject: 'while limited', text: 'hi' });
    proxy.corruptNext('GET', '/mailbox/changes', () => ({ status: 429, text: TOO_MANY, headers: { 'retry-after': '999999' } }));
    const outcome = await engine.sync.syncNow().then(
      () => 'resolved',
      () => 'rejected',
    );
    expect(outcome).toBe('rejected');
    expect(proxy.corrupted).toBe(1);
    const limited = errors.filter((e) => e.code === 'rate_limited');
    expect(limited).toHaveLength(1);
    expect(limited[0]?.message).toMatch(/999999 s; waiting 300 s/);
    await engine.sync.syncNow();
    expect(snapshotDiff(await engine.sync.snapshot(), await sim.snapshot())).toBeUndefined();
  });
});
