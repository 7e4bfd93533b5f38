// The agent's own records in the replica: the audit log of what it did and its local
// drafts (src/store/agentLog.ts), as methods of the engine. The CLI and the MCP server
// write them; an app may too.
import type { SyncContext } from '../sync/context.js';
import {
  appendAudit,
  deleteDraft,
  getDraft,
  lastAudit,
  listDrafts,
  putDraft,
  readAudit,
  type AuditEntry,
  type LocalDraft,
} from '../store/agentLog.js';

/** The audit log kept in the replica. */
export interface AuditLog {
  /** Appends an entry (`at` defaults to now); resolves with it and its `seq`. */
  record(entry: Omit<AuditEntry, 'seq' | 'at'> & { at?: number }): Promise<AuditEntry>;
  /**
   * Entries oldest first: after `afterSeq` when given, else the newest `limit`
   * (default 100).
   */
  list(options?: { afterSeq?: number; limit?: number }): Promise<AuditEntry[]>;
}

/** Local drafts kept in the replica (the Mailbox API keeps none). */
export interface LocalDrafts {
  /** Inserts or replaces a draft. */
  save(draft: LocalDraft): Promise<LocalDraft>;
  /** One draft, or undefined. */
  get(id: string): Promise<LocalDraft | undefined>;
  /** Every draft, most recently updated first. */
  list(): Promise<LocalDraft[]>;
  /** Deletes a draft. */
  delete(id: string): Promise<void>;
}

/** The agent's records of a mailbox. */
export interface MailboxAgentRecords {
  /** What agents did: mutations, drafts and sends, with time and outcome. */
  readonly audit: AuditLog;
  /** Drafts not yet sent. */
  readonly drafts: LocalDrafts;
}

/** Builds the agent's records over the engine's database (opened by `start()`). */
export function createAgentRecords(context: Promise<SyncContext>, now: () => number): MailboxAgentRecords {
  const db = async () => (await context).db;
  return {
    audit: {
      async record(entry) {
        return appendAudit(await db(), { ...entry, at: entry.at ?? now() });
      },
      async list(options = {}) {
        const d = await db();
        if (options.afterSeq !== undefined) return readAudit(d, options);
        return lastAudit(d, options.limit ?? 100);
      },
    },
    drafts: {
      async save(draft) {
        await putDraft(await db(), draft);
        return draft;
      },
      async get(id) {
        return getDraft(await db(), id);
      },
      async list() {
        return listDrafts(await db());
      },
      async delete(id) {
        await deleteDraft(await db(), id);
      },
    },
  };
}
