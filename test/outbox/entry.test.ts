// The package entry wires the outbox into the engine: `createMailboxSync()` exposes
// update/remove/outcomes$ with the conflict policy under `outbox`, and stop() ends it.
import { testStore } from '../helpers/storage.js';
import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxSync, type MailboxSync, type MutationOutcome } from '../../src/index.js';
import { BATCH_UPDATE, converge, requests, sim, type Simulator } from './helpers.js';

let s: Simulator | undefined;
let sync: MailboxSync | undefined;
afterEach(async () => {
  await sync?.stop();
  await s?.close();
  sync = undefined;
  s = undefined;
});

describe('createMailboxSync', () => {
  it('update() goes through the outbox of the engine and outcomes$ reports it', async () => {
    s = await sim();
    sync = createMailboxSync({
      apiKey: s.apiKey,
      baseUrl: s.url,
      ...testStore().options,
      dbName: 'entry',
      leader: 'always',
      events: false,
      apiOptions: { rateLimit: false },
      outbox: { conflict: 'fail', maxRebases: 0 },
    });
    await sync.start();
    const [m] = (await s.snapshot()).messages.filter((x) => !x.flags.flagged);
    const id = (m as { id: string }).id;
    const seen: MutationOutcome[] = [];
    sync.outcomes$.subscribe((o) => seen.push(o));
    expect(await sync.update([id], { flagged: true })).toEqual([{ id, status: 'applied' }]);
    expect(seen).toEqual([{ id, status: 'applied' }]);
    expect(requests(s, BATCH_UPDATE)).toBe(1);
    // The policy option reaches the flusher: one conflict and it is rolled back.
    await s.control.failNext({ count: 1, status: 409, path: '/mailbox/messages:batch-update' });
    const [out] = await sync.update([id], { flagged: false });
    expect(out).toMatchObject({ id, status: 'rolled_back', reason: 'conflict' });
    expect((await firstValueFrom(sync.message$(id)))?.flags.flagged).toBe(true);
    await converge({ sync }, s);
  });
});
