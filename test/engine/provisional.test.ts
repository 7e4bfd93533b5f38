// Records shown from SSE snapshots stay provisional until a pull confirms them
// (src/sync/provisional.ts). Regression (chaos seed 769): a pull that removed a
// destroyed message counted it as confirmed for the whole pull, so a snapshot of the
// same message written again meanwhile (an event replayed after the stream was cut)
// was dropped from the provisional list unchecked, and the message stayed forever.
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/api/types.js';
import { MailboxDb } from '../../src/store/db.js';
import { putServerRecords } from '../../src/store/apply.js';
import { PROVISIONAL_KEY } from '../../src/sync/provisional.js';
import { testStore } from '../helpers/storage.js';
import { engine, sim, type EngineHandle, type Simulator } from './helpers.js';

let s: Simulator | undefined;
const engines: EngineHandle[] = [];
const dbs: MailboxDb[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.sync.stop();
  for (const d of dbs.splice(0)) d.close();
  await s?.close();
  s = undefined;
});

describe('provisional SSE records', () => {
  it('a snapshot written again after a pull removed its message is checked by that pull, not taken as confirmed', async () => {
    s = await sim({ messages: 560 });
    const store = testStore();
    const { id } = await s.control.deliver({ subject: 'Here and gone' });
    let changesCalls = 0;
    let inject: (() => Promise<void>) | undefined;
    const e = engine(s, {
      store,
      events: false,
      fetch: async (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        // The second changes page of the pull: the first (which removed the message) has committed.
        if (url.includes('/mailbox/changes') && (changesCalls += 1) === 2 && inject) await inject();
        return fetch(input, init);
      },
    });
    engines.push(e);
    await e.sync.start();
    const record = (await e.sync.snapshot()).messages.find((m: Message) => m.id === id) as Message;
    expect(record).toBeDefined();

    // Destroyed on the server, then more than one changes page (500) of other changes.
    await s.control.destroy([id]);
    const others = (await s.snapshot()).messages.filter((m) => m.id !== id).slice(0, 520).map((m) => m.id);
    await s.control.setFlags(others, { keywords: { paged: true } });
    // What the stream's drain does with a replayed `message.received` for an unknown id.
    const side = new MailboxDb('replica', store.options);
    dbs.push(side);
    await side.open();
    inject = async () => {
      inject = undefined;
      await side.transaction('rw', side.serverTables, async () => {
        if (await side.messages.get(id)) throw new Error('the first page should have removed the message');
        await putServerRecords(side, 'messages', [record]);
        await side.syncState.put({ key: PROVISIONAL_KEY, value: [id] });
      });
    };
    changesCalls = 0;
    await e.sync.syncNow();
    expect(changesCalls).toBeGreaterThanOrEqual(2);
    expect(inject).toBeUndefined();
    // The pull checked the snapshot with the server: gone, so removed; nothing left provisional.
    expect(await side.messages.get(id)).toBeUndefined();
    expect(await side.syncState.get(PROVISIONAL_KEY)).toBeUndefined();
    expect((await e.sync.snapshot()).messages.some((m: Message) => m.id === id)).toBe(false);
  });

  it('ids a pull fetched or removed leave the provisional list in the transaction that wrote them', async () => {
    s = await sim({ messages: 40 });
    const store = testStore();
    const e = engine(s, { store, events: false });
    engines.push(e);
    await e.sync.start();
    const side = new MailboxDb('replica', store.options);
    dbs.push(side);
    await side.open();
    const { id } = await s.control.deliver({ subject: 'Shown early' });
    // As if its snapshot had been shown from the stream.
    const snap = (await s.snapshot()).messages.find((m) => m.id === id) as Message;
    await side.transaction('rw', side.serverTables, async () => {
      await putServerRecords(side, 'messages', [snap]);
      await side.syncState.put({ key: PROVISIONAL_KEY, value: [id] });
    });
    s.resetStats();
    await e.sync.syncNow();
    const batchGets = s.stats().byPath['POST /mailbox/messages:batch-get'] ?? 0;
    // One batch-get: the pull's own fetch of the created id, which also confirms it.
    expect(batchGets).toBe(1);
    expect(await side.syncState.get(PROVISIONAL_KEY)).toBeUndefined();
    expect(await side.messages.get(id)).toMatchObject({ id, subject: 'Shown early' });
  });
});
