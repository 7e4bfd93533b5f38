import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { components } from '../../src/api/schema.js';
import {
  addMessageDelta,
  applyOps,
  applyPatch,
  emptyDelta,
  overlayFolder,
  overlayThread,
  type PendingOp,
} from '../../src/store/pending.js';

type Message = components['schemas']['MailboxMessageSummary'];
type Folder = components['schemas']['MailboxFolder'];
type Thread = components['schemas']['MailboxThreadSummary'];

function message(over: Partial<Message> = {}): Message {
  return {
    id: 'm1', thread_id: 't1', folder_ids: ['inbox'], subject: 's', preview: 'p',
    from: { email: 'a@example.com', name: 'A' }, to: [], cc: [], bcc: [],
    received_at: '2026-01-01T00:00:00Z', sent_at: null, size_bytes: 10, has_attachments: false,
    keywords: [], flags: { seen: false, flagged: false, draft: false, answered: false },
    ...over,
  } as Message;
}

const folder = (id: string, total: number, unread: number): Folder => ({
  id, name: id, parent_id: null, role: id, sort_order: 0, total_messages: total, unread_messages: unread, can_add_items: true,
});

describe('applyPatch', () => {
  it('sets seen and mirrors it in the $seen keyword', () => {
    const m = applyPatch(message(), { seen: true });
    expect(m.flags.seen).toBe(true);
    expect(m.keywords).toEqual(['$seen']);
    expect(applyPatch(m, { seen: false }).keywords).toEqual([]);
  });

  it('normalises keyword names, ignores read-only $draft, and lets explicit flags win', () => {
    const m = applyPatch(message({ keywords: ['work'] }), {
      keywords: { Urgent: true, WORK: false, $draft: true, $flagged: true, $answered: true },
      flagged: false,
    });
    expect(m.keywords).toEqual(['$answered', 'urgent']);
    expect(m.flags).toEqual({ seen: false, flagged: false, draft: false, answered: true });
  });

  it('keeps keywords sorted and de-duplicated, as the server reports them', () => {
    const m = applyPatch(message({ keywords: ['zeta', 'alpha'] }), { keywords: { mid: true }, seen: true });
    expect(m.keywords).toEqual(['$seen', 'alpha', 'mid', 'zeta']);
  });

  it('is absolute: applying a patch twice equals applying it once', () => {
    const patch = { seen: true, keywords: { x: true, y: false } };
    const once = applyPatch(message({ keywords: ['y'] }), patch);
    expect(applyPatch(once, patch)).toEqual(once);
  });

  it('does not mutate its input', () => {
    const input = message();
    const copy = structuredClone(input);
    applyPatch(input, { seen: true, keywords: { a: true } });
    expect(input).toEqual(copy);
  });
});

describe('applyOps', () => {
  it('applies ops in order, moves to trash, and removes permanently', () => {
    const ops: PendingOp[] = [
      { kind: 'update', patch: { seen: true } },
      { kind: 'remove', permanent: false, trashFolderId: 'trash' },
    ];
    expect(applyOps(message(), ops)).toMatchObject({ folder_ids: ['trash'], flags: { seen: true } });
    expect(applyOps(message(), [...ops, { kind: 'remove', permanent: true, trashFolderId: 'trash' }])).toBeUndefined();
    expect(applyOps(undefined, [{ kind: 'update', patch: { seen: true } }])).toBeUndefined();
    expect(applyOps(message(), [])).toEqual(message());
  });
});

describe('counter deltas', () => {
  it('moves folder and thread counters with a mark-read and a trash', () => {
    const server = message({ folder_ids: ['inbox'] });
    const visible = applyOps(server, [
      { kind: 'update', patch: { seen: true } },
      { kind: 'remove', permanent: false, trashFolderId: 'trash' },
    ]);
    const delta = addMessageDelta(emptyDelta(), server, visible);
    expect(overlayFolder(folder('inbox', 10, 4), delta)).toMatchObject({ total_messages: 9, unread_messages: 3 });
    expect(overlayFolder(folder('trash', 2, 0), delta)).toMatchObject({ total_messages: 3, unread_messages: 0 });
    const thread = { id: 't1', unread_count: 1, message_count: 1, last_message: server } as Thread;
    const shown = overlayThread(thread, delta, new Map([['m1', visible]]));
    expect(shown).toMatchObject({ unread_count: 0, message_count: 1, last_message: { folder_ids: ['trash'] } });
  });

  it('property: visible − delta = server for random op sequences over many messages (rollback is exact)', () => {
    const patchArb = fc.record(
      { seen: fc.boolean(), flagged: fc.boolean(), keywords: fc.dictionary(fc.constantFrom('a', 'b', '$seen'), fc.boolean()) },
      { requiredKeys: [] },
    );
    const opArb: fc.Arbitrary<PendingOp> = fc.oneof(
      patchArb.map((patch) => ({ kind: 'update' as const, patch })),
      fc.record({ kind: fc.constant('remove' as const), permanent: fc.boolean(), trashFolderId: fc.constantFrom('trash', null) }),
    );
    const msgArb = fc.record({
      id: fc.uuid(), seen: fc.boolean(), folders: fc.subarray(['inbox', 'archive', 'work'], { minLength: 1 }), thread: fc.constantFrom('t1', 't2'),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(msgArb, fc.array(opArb, { maxLength: 5 })), { maxLength: 8 }), (cases) => {
        const delta = emptyDelta();
        const serverFolders = new Map<string, Folder>();
        for (const id of ['inbox', 'archive', 'work', 'trash']) serverFolders.set(id, folder(id, 0, 0));
        for (const [m, ops] of cases) {
          const server = message({ id: m.id, folder_ids: m.folders, thread_id: m.thread, flags: { seen: m.seen, flagged: false, draft: false, answered: false } });
          for (const f of m.folders) {
            const sf = serverFolders.get(f)!;
            serverFolders.set(f, { ...sf, total_messages: sf.total_messages + 1, unread_messages: sf.unread_messages + (m.seen ? 0 : 1) });
          }
          addMessageDelta(delta, server, applyOps(server, ops));
        }
        for (const sf of serverFolders.values()) {
          const shown = overlayFolder(sf, delta);
          const d = delta.folders.get(sf.id) ?? { total: 0, unread: 0 };
          expect(shown.total_messages - d.total).toBe(sf.total_messages);
          expect(shown.unread_messages - d.unread).toBe(sf.unread_messages);
          // Visible counters never go negative: each pending message only removes what it added.
          expect(shown.total_messages).toBeGreaterThanOrEqual(0);
          expect(shown.unread_messages).toBeGreaterThanOrEqual(0);
          expect(shown.unread_messages).toBeLessThanOrEqual(shown.total_messages);
        }
      }),
      { seed: Number(process.env.FC_SEED ?? 42), numRuns: 300 },
    );
  });
});
