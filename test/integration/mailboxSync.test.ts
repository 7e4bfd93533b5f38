// The package entry wires every part: createMailboxSync exposes views, mutations,
// content, attachments, sends, windows and search on one object, and clear() leaves
// no database behind.
import { testStore } from '../helpers/storage.js';
import { firstValueFrom, filter, timeout, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';

let sim: Simulator | undefined;
let sync: MailboxSync | undefined;
afterEach(async () => {
  await sync?.stop();
  await sim?.close();
  sync = undefined;
  sim = undefined;
});

const within = <T>(o: Observable<T>, pred: (v: T) => boolean) => firstValueFrom(o.pipe(filter(pred), timeout(15_000)));

describe('createMailboxSync (package entry)', () => {
  it('reads content, downloads attachments, sends once, and serves windows and search', async () => {
    sim = await startSimulator({ port: 0, seed: 3, messages: 150, rateLimitPerMinute: 0 });
    const store = testStore();
    sync = createMailboxSync({
      apiKey: sim.apiKey, baseUrl: sim.url, ...store.options, dbName: 'entry', leader: 'always',
      content: { prefetch: false, attachmentOutput: 'bytes' },
    });
    await sync.start();
    const snap = await sim.snapshot();

    const withText = snap.messages.find((m) => m.preview)!;
    const content = await within(sync.content$(withText.id), (s) => s.status !== 'loading');
    expect(content.status).toBe('ready');

    const withAttachment = snap.messages.find((m) => (m.attachments ?? []).length > 0)!;
    const att = withAttachment.attachments![0]!;
    const bytes = await sync.attachment(withAttachment.id, att.id);
    expect(bytes).toBeInstanceOf(Uint8Array);
    if (att.size_bytes !== null) expect((bytes as Uint8Array).byteLength).toBe(att.size_bytes);

    const thread = await within(sync.thread$(withText.thread_id!, { withContent: true }), (t) => t?.content.status === 'ready');
    expect(thread?.messages.length).toBeGreaterThan(0);

    const identity = snap.identities[0]!;
    const sent = within(sync.sendOutcomes$, (o) => o.status === 'sent');
    const { idempotency_key } = await sync.send({ to: [{ email: 'friend@example.com', name: null }], subject: 'Hello from the entry test', text_body: 'hi', from: { email: identity.email, name: null } });
    expect(idempotency_key).toBeTruthy();
    await sent;
    await within(sync.outbox$, (sends) => sends.length === 0);
    const after = await sim.snapshot();
    expect(after.submissions.length).toBe(snap.submissions.length + 1);

    const win = sync.window$({ is_unread: false }, { size: 7 });
    expect(win.key).toContain('is_unread');
    const state = await within(win, (s) => s.status === 'ready');
    expect(state.ids).toHaveLength(7);

    const word = (withText.subject ?? '').split(/\s+/).find((w) => w.length > 4) ?? 'the';
    const found = await within(sync.search$(word), (s) => s.server === 'ready');
    expect(found.hits.length).toBeGreaterThan(0);
  });

  it('clear() deletes the replica and the content cache', async () => {
    sim = await startSimulator({ port: 0, seed: 4, messages: 40, rateLimitPerMinute: 0 });
    const store = testStore();
    sync = createMailboxSync({ apiKey: sim.apiKey, baseUrl: sim.url, ...store.options, dbName: 'gone', leader: 'always', content: { prefetch: false } });
    await sync.start();
    const first = (await sim.snapshot()).messages[0]!;
    await within(sync.content$(first.id), (s) => s.status !== 'loading');
    expect((await store.databases()).map((d) => d.name).sort()).toEqual(['gone', 'gone:content']);
    await sync.clear();
    expect(await store.databases()).toEqual([]);
  });
});
