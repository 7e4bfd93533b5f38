// Issue 19, point 4: silent divergence. A changes page that contradicts itself, a
// changes response that leaves out a requested type, and an oversized record must
// not leave the replica different from the server while the status says live.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../src/index.js';
import type { Simulator } from '../../src/sim/index.js';
import { getTokens } from '../../src/store/apply.js';
import type { SyncEngine } from '../../src/engine.js';
import { snapshotDiff } from '../chaos/checks.js';
import { editJson, type HostileFetch } from './hostileFetch.js';
import { startHostileRig } from './rig.js';

let sim: Simulator;
let proxy: HostileFetch;
let engine: SyncEngine;
let errors: SyncError[];

beforeEach(async () => {
  ({ sim, proxy, engine, errors } = await startHostileRig({ dbName: 'divergence' }));
});

afterEach(async () => {
  await engine.sync.stop();
  await sim.close();
});

type ChangesBody = { data: { types: Record<string, { updated: string[]; destroyed: string[] }> } };

/** syncNow must reject with a protocol_error, leaving the replica and its tokens as they were. */
async function expectRefusedUntouched(): Promise<void> {
  const db = (await engine.context).db;
  const before = await engine.sync.snapshot();
  const tokensBefore = await getTokens(db);
  const thrown = await engine.sync.syncNow().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(proxy.corrupted).toBe(1);
  expect(thrown).toBeInstanceOf(SyncError);
  expect((thrown as SyncError).code).toBe('protocol_error');
  expect(errors.some((e) => e.code === 'protocol_error')).toBe(true);
  expect(await engine.sync.snapshot()).toEqual(before);
  expect(await getTokens(db)).toEqual(tokensBefore);
  await engine.sync.syncNow();
  expect(snapshotDiff(await engine.sync.snapshot(), await sim.snapshot())).toBeUndefined();
}

describe('silent divergence (issue 19)', () => {
  it('an id in both updated and destroyed of one changes page is checked with the server and kept when the server has it', async () => {
    const target = (await sim.snapshot()).messages[0];
    const id = target?.id ?? '';
    await sim.control.setFlags([id], { flagged: !target?.flags.flagged });
    proxy.corruptNext(
      'GET',
      '/mailbox/changes',
      editJson((body) => {
        const messages = (body as ChangesBody).data.types.messages;
        if (messages?.updated.includes(id)) messages.destroyed.push(id);
      }),
    );
    await engine.sync.syncNow();
    expect(proxy.corrupted).toBe(1);
    expect(errors.some((e) => e.code === 'protocol_error' && e.message.includes(id))).toBe(true);
    expect((await engine.sync.snapshot()).messages.some((m) => m.id === id)).toBe(true);
    expect(snapshotDiff(await engine.sync.snapshot(), await sim.snapshot())).toBeUndefined();
  });

  it('a changes response that leaves out a requested type is refused: nothing advances, protocol_error', async () => {
    const target = (await sim.snapshot()).messages[0];
    await sim.control.setFlags([target?.id ?? ''], { seen: !target?.flags.seen });
    await sim.control.createFolder('Also changed');
    proxy.corruptNext(
      'GET',
      '/mailbox/changes',
      editJson((body) => {
        delete (body as ChangesBody).data.types.messages;
      }),
    );
    await expectRefusedUntouched();
  });

  it('a message with a 5 MB preview is refused before it reaches the replica', async () => {
    const target = (await sim.snapshot()).messages[0];
    await sim.control.setFlags([target?.id ?? ''], { flagged: !target?.flags.flagged });
    proxy.corruptNext(
      'POST',
      '/mailbox/messages:batch-get',
      editJson((body) => {
        const first = (body as { data: { messages: { message: Record<string, unknown> }[] } }).data.messages[0];
        if (first) first.message.preview = 'x'.repeat(5_000_000);
      }),
    );
    await expectRefusedUntouched();
  });

  it('legitimate records within the bounds converge unchanged (a 2000-character subject)', async () => {
    await sim.control.deliver({ subject: 's'.repeat(2_000), text: 'p '.repeat(2_000) });
    await engine.sync.syncNow();
    expect(errors).toEqual([]);
    expect(snapshotDiff(await engine.sync.snapshot(), await sim.snapshot())).toBeUndefined();
  });
});
