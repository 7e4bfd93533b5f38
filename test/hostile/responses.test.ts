// Hostile input: a proxy corrupts one response of an otherwise healthy server. Each
// corruption must surface as a typed SyncError on errors$ (and a rejected syncNow),
// leave the replica and its tokens exactly as they were (the page's transaction
// never commits), and the next cycle must converge once the fault is gone.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError, type SyncErrorCode } from '../../src/index.js';
import type { Simulator } from '../../src/sim/index.js';
import { getTokens } from '../../src/store/apply.js';
import type { SyncEngine } from '../../src/engine.js';
import { snapshotDiff } from '../chaos/checks.js';
import { editJson, type HostileFetch, type RealResponse } from './hostileFetch.js';
import { startHostileRig } from './rig.js';

let sim: Simulator;
let proxy: HostileFetch;
let engine: SyncEngine;
let errors: SyncError[];

beforeEach(async () => {
  ({ sim, proxy, engine, errors } = await startHostileRig({ dbName: 'hostile' }));
});

afterEach(async () => {
  await engine.sync.stop();
  await sim.close();
});

/** Remote changes so the next pull has work: flags on three messages and a delivery. */
async function remoteChanges(): Promise<void> {
  const msgs = (await sim.snapshot()).messages.slice(0, 3);
  for (const m of msgs) await sim.control.setFlags([m.id], { seen: !m.flags.seen, keywords: { hostile: true } });
  await sim.control.deliver({ subject: 'incoming', text: 'hello' });
}

const PROTOCOL: SyncErrorCode[] = ['protocol_error', 'changes_failed'];

/**
 * Arms a corruption, pulls, and checks: the pull rejects with a typed error that is
 * also on errors$, the replica and tokens are untouched, and after healing the
 * engine converges.
 */
async function expectRejectedUntouchedThenConverges(arm: () => void, codes: SyncErrorCode[] = PROTOCOL): Promise<void> {
  await remoteChanges();
  const db = (await engine.context).db;
  const before = await engine.sync.snapshot();
  const tokensBefore = await getTokens(db);
  const seen = errors.length;
  arm();
  const thrown = await engine.sync.syncNow().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(proxy.corrupted).toBeGreaterThan(0);
  expect(thrown).toBeInstanceOf(SyncError);
  const reported = errors.slice(seen);
  expect(reported.length).toBeGreaterThan(0);
  for (const e of reported) expect(codes).toContain(e.code);
  expect(await engine.sync.snapshot()).toEqual(before);
  expect(await getTokens(db)).toEqual(tokensBefore);
  proxy.heal();
  await engine.sync.syncNow();
  expect(snapshotDiff(await engine.sync.snapshot(), await sim.snapshot())).toBeUndefined();
}

/** Edits the first message record of a batch-get response. */
function editFirstMessage(edit: (m: Record<string, unknown>) => void) {
  return editJson((body) => {
    const data = body.data as { messages: { message: Record<string, unknown> }[] };
    const first = data.messages[0];
    if (first) edit(first.message);
  });
}

const CHANGES = '/mailbox/changes';
const BATCH_GET = '/mailbox/messages:batch-get';

describe('hostile responses', () => {
  it('malformed JSON from /mailbox/changes', async () => {
    await expectRejectedUntouchedThenConverges(() => proxy.corruptNext('GET', CHANGES, () => ({ text: '{"ok":true,"data":{"types":{"messages":[}}' }), 2));
  });

  it('a truncated batch-get body', async () => {
    await expectRejectedUntouchedThenConverges(() => proxy.corruptNext('POST', BATCH_GET, (r: RealResponse) => ({ text: r.text.slice(0, Math.floor(r.text.length / 2)) }), 2));
  });

  it('an HTML error page instead of JSON (a proxy 502)', async () => {
    await expectRejectedUntouchedThenConverges(() => proxy.corruptNext('GET', CHANGES, () => ({ status: 502, text: '<html><body>Bad gateway</body></html>' }), 3));
  });

  it('wrong types in a changes response (created is a string, not a list)', async () => {
    await expectRejectedUntouchedThenConverges(() =>
      proxy.corruptNext(
        'GET',
        CHANGES,
        editJson((body) => {
          const types = (body.data as { types: Record<string, { created: unknown }> }).types;
          if (types.messages) types.messages.created = 'msg_not_a_list';
        }),
      ),
    );
  });

  it('a changes response missing new_state', async () => {
    await expectRejectedUntouchedThenConverges(() =>
      proxy.corruptNext(
        'GET',
        CHANGES,
        editJson((body) => {
          const types = (body.data as { types: Record<string, Record<string, unknown>> }).types;
          if (types.messages) delete types.messages.new_state;
        }),
      ),
    );
  });

  it('wrong types in a message record (flags is a string, subject a number)', async () => {
    await expectRejectedUntouchedThenConverges(() =>
      proxy.corruptNext(
        'POST',
        BATCH_GET,
        editFirstMessage((m) => {
          m.flags = 'yes';
          m.subject = 42;
        }),
      ),
    );
  });

  it('a message record missing required fields (folder_ids, received_at)', async () => {
    await expectRejectedUntouchedThenConverges(() =>
      proxy.corruptNext(
        'POST',
        BATCH_GET,
        editFirstMessage((m) => {
          delete m.folder_ids;
          delete m.received_at;
        }),
      ),
    );
  });

  it('duplicate ids with different contents in one batch-get', async () => {
    await expectRejectedUntouchedThenConverges(() =>
      proxy.corruptNext(
        'POST',
        BATCH_GET,
        editJson((body) => {
          const data = body.data as { messages: { message: Record<string, unknown> }[] };
          const first = data.messages[0];
          if (first) data.messages.push({ message: { ...first.message, subject: 'an impostor with the same id' } });
        }),
      ),
    );
  });

  it('a giant changes page: far more ids than the limit asked for', async () => {
    await expectRejectedUntouchedThenConverges(() =>
      proxy.corruptNext(
        'GET',
        CHANGES,
        editJson((body) => {
          const types = (body.data as { types: Record<string, { created: string[] }> }).types;
          if (types.messages) types.messages.created = Array.from({ length: 50_000 }, (_, i) => `msg_giant${i}`);
        }),
      ),
    );
  });

  it('a stale state token: the server answers with an old changes response (old_state is not the token sent)', async () => {
    // Capture a real response now, replay it after the replica has moved on.
    let stale: string | undefined;
    proxy.corruptNext('GET', CHANGES, (r) => {
      stale = r.text;
      return { text: r.text };
    });
    await remoteChanges();
    await engine.sync.syncNow();
    expect(stale).toBeDefined();
    await expectRejectedUntouchedThenConverges(() => proxy.corruptNext('GET', CHANGES, () => ({ text: stale as string })));
  });
});
