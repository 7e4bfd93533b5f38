// A consumer's strict TypeScript file, type-checked against the packed tarball by
// `npm run check:package` (scripts/check-package.mjs). Every assertion fails to
// compile if the published types degrade: records or methods turning into `any`,
// a missing declaration file, or an entry point without types.
import { createMailboxSync, sanitizeHtml, SyncError, type Folder, type Message, type MailboxSync, type SyncPhase, type SyncStatus } from 'sendmux-sync';
import { createMailboxApi, SendmuxApiError, type MailboxApi, type Session } from 'sendmux-sync/api';
import { startSimulator, type Simulator } from 'sendmux-sync/sim';
import { sqliteStorage, type SqliteStorage, type SqliteStorageError } from 'sendmux-sync/sqlite';
import { createElement, type ReactElement } from 'react';
import {
  MailboxSyncProvider,
  useContent,
  useCount,
  useFolders,
  useMailboxSync,
  useMessage,
  useMessageIds,
  useMessages,
  useOutcomes,
  useSearch,
  useStatus,
  useThread,
} from 'sendmux-sync/react';

/** `true` only when T is `any`. */
type IsAny<T> = 0 extends 1 & T ? true : false;
/** Compiles only when `T` is `false`. */
function assertNotAny<T extends false>(_proof?: T): void {}
/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_proof?: T): void {}

assertNotAny<IsAny<Message>>();
assertNotAny<IsAny<Folder>>();
assertNotAny<IsAny<Session>>();
assertNotAny<IsAny<MailboxApi>>();
assertNotAny<IsAny<MailboxSync>>();
assertNotAny<IsAny<Simulator>>();
assertNotAny<IsAny<Message['subject']>>();
assertType<Equal<Message['id'], string>>();
assertType<Equal<Folder['unread_messages'], number>>();
assertNotAny<IsAny<ReturnType<MailboxApi['getSession']>>>();
assertNotAny<IsAny<SyncStatus['phase']>>();
assertType<Equal<SyncStatus['phase'], SyncPhase>>();
// sendmux-sync/react: the hooks' results are the engine's types, `undefined` while loading.
assertNotAny<IsAny<ReturnType<typeof useMessages>>>();
assertType<Equal<ReturnType<typeof useMessages>, Message[] | undefined>>();
assertType<Equal<ReturnType<typeof useMessageIds>, string[] | undefined>>();
assertType<Equal<ReturnType<typeof useMessage>, Message | null | undefined>>();
assertType<Equal<ReturnType<typeof useCount>, number | undefined>>();
assertType<Equal<ReturnType<typeof useFolders>, Folder[] | undefined>>();
assertType<Equal<ReturnType<typeof useStatus>, SyncStatus | undefined>>();
assertNotAny<IsAny<NonNullable<ReturnType<typeof useThread>>>>();
assertNotAny<IsAny<NonNullable<ReturnType<typeof useSearch>>['hits']>>();
assertNotAny<IsAny<NonNullable<ReturnType<typeof useContent>>>>();
assertNotAny<IsAny<ReturnType<typeof useOutcomes>[number]>>();
assertType<Equal<ReturnType<typeof useMailboxSync>, MailboxSync>>();

/** A component over the hooks: the engine passed first, or taken from the provider. */
export function Inbox({ sync }: { sync: MailboxSync }): ReactElement {
  const rows = useMessages(sync, { folderId: 'inbox', limit: 50 });
  const unread = useCount({ unread: true });
  const status = useStatus();
  const content = useContent(sync, rows?.[0]?.id);
  const folders = useFolders(sync);
  const ids = useMessageIds({ folderId: folders?.[0]?.id, limit: 5 });
  const first = useMessage(sync, ids?.[0]);
  const thread = useThread(first?.thread_id);
  const search = useSearch(useMailboxSync(), 'invoice', { server: false });
  const outcomes = useOutcomes(sync, { limit: 5 });
  const subjects: (string | null)[] = [...(thread?.messages ?? []), ...(search?.hits ?? [])].map((m) => m.subject);
  const failed = outcomes.filter((o) => o.status === 'rolled_back').length;
  // @ts-expect-error a row is a Message, not a number (fails if the hooks degrade to any)
  const n: number | undefined = rows?.[0];
  // @ts-expect-error the engine comes first or not at all
  useMessages({ limit: 1 }, sync);
  const body = content?.status === 'ready' ? content.content.body.text : null;
  void n;
  return createElement('p', null, `${status?.phase ?? '…'}: ${rows?.length ?? '…'} rows, ${unread ?? '…'} unread, ${failed} failed, ${subjects.length} related, ${body ?? ''}`);
}

/** The provider around it. */
export function App({ sync }: { sync: MailboxSync }): ReactElement {
  return createElement(MailboxSyncProvider, { sync }, createElement(Inbox, { sync }));
}

export async function main(): Promise<void> {
  const sim = await startSimulator({ port: 0, seed: 1, messages: 10 });
  const api = createMailboxApi({ apiKey: sim.apiKey, baseUrl: sim.url });
  const { data: session } = await api.getSession();
  const mailboxId: string = session.mailbox.id;
  // @ts-expect-error a record is not a number (fails if Session degrades to any)
  const wrong: number = session;
  for await (const page of api.pages('listMessages', { limit: 5 })) {
    const first: Message | undefined = page.data[0];
    // @ts-expect-error records are typed (fails if Message degrades to any)
    const n: number = first;
    void n;
  }
  // @ts-expect-error unknown methods do not exist on the client
  api.noSuchMethod();

  const sync = createMailboxSync({ apiKey: sim.apiKey, baseUrl: sim.url });
  sync.messages$({ folderId: 'inbox', limit: 50 }).subscribe((rows) => {
    const subject: string = rows[0]?.subject ?? '';
    void subject;
  });
  sync.status$.subscribe((s) => {
    // @ts-expect-error the phase is a closed union of names, not any string
    const phase: 'no-such-phase' = s.phase;
    void phase;
  });
  try {
    await sync.start();
  } catch (e) {
    if (e instanceof SyncError) console.error(e.code);
    if (e instanceof SendmuxApiError) console.error(e.status);
  }
  const { html } = sanitizeHtml('<p>hi</p>');
  void [mailboxId, wrong, html];
  await sync.stop();
  await sim.close();
}

// sendmux-sync/sqlite: typed without better-sqlite3's own types installed.
const storage = sqliteStorage({ path: 'replica.sqlite', pollMs: 100 });
assertType<Equal<typeof storage, SqliteStorage>>();
assertType<Equal<typeof storage.kind, 'sqlite'>>();
export const onSqlite: MailboxSync = createMailboxSync({ apiKey: 'smx_mbx_x', storage });
assertNotAny<IsAny<typeof onSqlite>>();
assertType<Equal<SqliteStorageError['code'], 'open_failed' | 'transaction_inactive' | 'unsupported_schema' | 'constraint' | 'closed'>>();
