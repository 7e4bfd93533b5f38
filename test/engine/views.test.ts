import { testStore } from '../helpers/storage.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/api/types.js';
import { putServerRecords } from '../../src/store/apply.js';
import { MailboxDb } from '../../src/store/db.js';
import { createViews } from '../../src/reactive/views.js';
import { Subject } from 'rxjs';
import { engine, eventually, fakeLocks, killableFetch, sim, waitStatus, type EngineHandle, type Simulator } from './helpers.js';

let s: Simulator | undefined;
const engines: EngineHandle[] = [];
const dbs: MailboxDb[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.sync.stop();
  for (const d of dbs.splice(0)) d.close();
  await s?.close();
  s = undefined;
});

function msg(id: string, over: Partial<Message> = {}): Message {
  return {
    id, thread_id: 't1', folder_ids: ['inbox'], subject: id, preview: null, from: null, to: [], cc: [], bcc: [],
    received_at: `2026-01-0${id.length % 9 + 1}T00:00:00.000Z`, sent_at: null, size_bytes: 1, has_attachments: false, keywords: [],
    flags: { seen: false, flagged: false, draft: false, answered: false }, ...over,
  };
}

describe('views', () => {
  it('emit on relevant writes only, never a duplicate result, see writes of another db instance, and complete on stop', async () => {
    const store = testStore();
    const a = new MailboxDb('shared', store.options);
    const b = new MailboxDb('shared', store.options);
    dbs.push(a, b);
    await a.open();
    await b.open();
    const stop = new Subject<void>();
    const views = createViews(Promise.resolve(a), stop);
    const seen: string[][] = [];
    const counts: number[] = [];
    let completed = false;
    views.messages$({ folderId: 'inbox', unread: true }).subscribe({ next: (ms) => seen.push(ms.map((m) => m.id)), complete: () => (completed = true) });
    views.count$({ folderId: 'inbox' }).subscribe((n) => counts.push(n));
    await eventually(() => seen.length === 1 && counts.length === 1, 5000, 'initial emission');
    expect(seen).toEqual([[]]);

    // A write through the other instance (another tab) shows up.
    await b.transaction('rw', b.serverTables, () => putServerRecords(b, 'messages', [msg('m1'), msg('m22')]));
    await eventually(() => seen.length === 2, 5000, 'emission after write');
    expect(seen[1]).toEqual(['m22', 'm1']);
    // A write that does not change the result (a read message in another folder) emits nothing.
    await b.transaction('rw', b.serverTables, () => putServerRecords(b, 'messages', [msg('x', { folder_ids: ['archive'], flags: { seen: true, flagged: false, draft: false, answered: false } })]));
    // Rewriting an identical record emits nothing either.
    await b.transaction('rw', b.serverTables, () => putServerRecords(b, 'messages', [msg('m1')]));
    // Marking m1 read removes it from the unread view.
    await a.transaction('rw', a.serverTables, () => putServerRecords(a, 'messages', [msg('m1', { flags: { seen: true, flagged: false, draft: false, answered: false } })]));
    await eventually(() => seen.length === 3, 5000, 'emission after read');
    expect(seen[2]).toEqual(['m22']);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.length).toBe(3);
    expect(counts).toEqual([0, 2]);
    stop.next();
    expect(completed).toBe(true);
  });

  it('a follower engine on the same database reads what the leader syncs and never touches the network', async () => {
    s = await sim({ messages: 40 });
    const store = testStore();
    const leader = engine(s, { events: false, store });
    const followerFetch = killableFetch();
    const follower = engine(s, { events: false, store, leader: 'follower', fetch: followerFetch.fetch, mailboxId: undefined });
    engines.push(leader, follower);
    const followerStarted = follower.sync.start();
    await leader.sync.start();
    await followerStarted;
    const inbox: string[][] = [];
    const folders = (await s.snapshot()).folders;
    const inboxId = folders.find((f) => f.role === 'inbox')?.id as string;
    follower.sync.messages$({ folderId: inboxId, limit: 5 }).subscribe((ms) => inbox.push(ms.map((m) => m.id)));
    await eventually(() => inbox.length > 0, 5000, 'follower view');
    const { id } = await s.control.deliver({ subject: 'for the follower' });
    await leader.sync.syncNow();
    await eventually(() => inbox.at(-1)?.[0] === id, 5000, 'follower sees the new message');
    expect(followerFetch.calls).toEqual([]);
    expect(await follower.sync.snapshot()).toEqual(await s.snapshot());
    await expect(follower.sync.syncNow()).resolves.toBeUndefined();
    expect(followerFetch.calls).toEqual([]);
    // The follower shows the leader's network state, which it cannot observe itself.
    await s.close();
    await leader.sync.syncNow().catch(() => undefined);
    expect((await waitStatus(follower.sync, (st) => st.phase === 'offline')).error?.code).toBe('offline');
    expect(followerFetch.calls).toEqual([]);
    s = undefined;
  });

  it('thread$ returns the thread with its messages oldest first; folders$ and message$ follow the replica', async () => {
    s = await sim({ messages: 60 });
    const e = engine(s, { events: false });
    engines.push(e);
    await e.sync.start();
    const snap = await s.snapshot();
    const thread = snap.threads.find((t) => t.message_count > 1) ?? snap.threads[0];
    const got = await new Promise<{ thread: { id: string }; messages: Message[] } | undefined>((resolve) => {
      const sub = e.sync.thread$(thread?.id as string).subscribe((v) => {
        resolve(v);
        queueMicrotask(() => sub.unsubscribe());
      });
    });
    expect(got?.thread.id).toBe(thread?.id);
    const expected = snap.messages.filter((m) => m.thread_id === thread?.id).map((m) => m.id);
    expect(new Set(got?.messages.map((m) => m.id))).toEqual(new Set(expected));
    const times = got?.messages.map((m) => (m.received_at ? Date.parse(m.received_at) : 0)) ?? [];
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    const folderLists: number[] = [];
    e.sync.folders$().subscribe((fs) => folderLists.push(fs.length));
    const target = snap.messages[0]?.id as string;
    const versions: (boolean | undefined)[] = [];
    e.sync.message$(target).subscribe((m) => versions.push(m?.flags.flagged));
    await eventually(() => folderLists.length > 0 && versions.length > 0, 5000, 'initial');
    await s.control.createFolder('Created by the views test');
    await s.control.setFlags([target], { flagged: !snap.messages[0]?.flags.flagged });
    await e.sync.syncNow();
    await eventually(() => folderLists.at(-1) === snap.folders.length + 1 && versions.at(-1) === !snap.messages[0]?.flags.flagged, 5000, 'updates');
  });

  it('tabs elect one network leader; when it stops, a waiting tab takes over and keeps the replica fresh', async () => {
    s = await sim({ messages: 30 });
    const store = testStore();
    const locks = fakeLocks();
    const fa = killableFetch();
    const fb = killableFetch();
    const a = engine(s, { events: false, store, leader: 'auto', locks, fetch: fa.fetch });
    const b = engine(s, { events: false, store, leader: 'auto', locks, fetch: fb.fetch });
    engines.push(a, b);
    await a.sync.start();
    await b.sync.start();
    expect((await waitStatus(a.sync, (st) => st.leader)).leader).toBe(true);
    expect(fb.calls).toEqual([]);
    await a.sync.stop();
    await waitStatus(b.sync, (st) => st.leader);
    const { id } = await s.control.deliver({ subject: 'after the handoff' });
    await b.sync.syncNow();
    expect((await b.sync.snapshot()).messages.some((m) => m.id === id)).toBe(true);
    expect(fb.calls.length).toBeGreaterThan(0);
    expect(await b.sync.snapshot()).toEqual(await s.snapshot());
  });

  it('stop() completes status$, errors$ and every view, and later calls are refused', async () => {
    s = await sim({ messages: 10 });
    const e = engine(s, { events: false });
    engines.push(e);
    await e.sync.start();
    const completed: string[] = [];
    const watch = (name: string, o: { subscribe(obs: { complete(): void }): unknown }) => o.subscribe({ complete: () => completed.push(name) });
    watch('status$', e.sync.status$);
    watch('errors$', e.sync.errors$);
    watch('messages$', e.sync.messages$({ limit: 3 }));
    watch('count$', e.sync.count$());
    watch('folders$', e.sync.folders$());
    watch('threads$', e.sync.threads$());
    await e.sync.stop();
    expect(completed.sort()).toEqual(['count$', 'errors$', 'folders$', 'messages$', 'status$', 'threads$']);
    // A view subscribed after stop() completes at once instead of hanging on a closed database.
    let late = false;
    e.sync.message$('anything').subscribe({ complete: () => (late = true) });
    expect(late).toBe(true);
    await expect(e.sync.start()).rejects.toMatchObject({ code: 'stopped' });
    await expect(e.sync.syncNow()).rejects.toMatchObject({ code: 'stopped' });
  });

  it('identities$ lists the server\'s identities and re-emits when another device edits one', async () => {
    s = await sim({ messages: 5 });
    const e = engine(s);
    engines.push(e);
    await e.sync.start();
    const seen: string[][] = [];
    const sub = e.sync.identities$().subscribe((list) => seen.push(list.map((i) => i.name ?? '')));
    const server = (await s.snapshot()).identities;
    await eventually(() => seen.length > 0, 5_000, 'first identities');
    expect(seen[0]).toEqual(server.map((i) => i.name ?? ''));
    await s.control.updateIdentity({ name: 'Renamed by another device' });
    await e.sync.syncNow();
    await eventually(() => seen.at(-1)?.includes('Renamed by another device') ?? false, 5_000, 'the renamed identity');
    sub.unsubscribe();
  });
});
