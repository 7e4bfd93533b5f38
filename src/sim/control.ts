// The control surface: "another device" and "the outside world" acting on the
// simulated mailbox, in process and (with `control: true`) as HTTP under /__sim/.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimServer } from './server.js';
import type { DeliverInput, FlagPatch } from './store.js';
import type { Folder, Identity, Quota, Submission, ThreadSummary, MessageSummary } from './types.js';

/** Full server state for convergence checks: every record of every type, sorted by id. */
export interface SimSnapshot {
  messages: MessageSummary[];
  threads: Array<Omit<ThreadSummary, 'states'>>;
  folders: Folder[];
  identities: Identity[];
  submissions: Submission[];
  quotas: Quota[];
}

/** Inputs of control.deliver (attachments: text `content` or raw `bytes`). */
export type ControlDeliverInput = DeliverInput;

/** The simulator's control surface (in process; over HTTP as `POST /__sim/<name>` with `control: true`). */
export interface SimControl {
  /** Delivers a new inbound message (SSE `message.received` included); resolves with its id. */
  deliver(input?: ControlDeliverInput): Promise<{ id: string }>;
  /** Changes flags and keywords of messages, as another device would. */
  setFlags(ids: string[], patch: FlagPatch): Promise<void>;
  /** Moves messages to Trash. */
  trash(ids: string[]): Promise<void>;
  /** Deletes messages for good. */
  destroy(ids: string[]): Promise<void>;
  /** Creates a folder (under `parentId` when given); resolves with its id. */
  createFolder(name: string, parentId?: string | null): Promise<{ id: string }>;
  /** Renames a folder. */
  renameFolder(id: string, name: string): Promise<void>;
  /** Deletes a folder. */
  deleteFolder(id: string): Promise<void>;
  /** Another device edits the default identity; the identities state moves. */
  updateIdentity(patch: { name?: string; text_signature?: string; html_signature?: string }): Promise<void>;
  /** Every earlier token (changes, query states, SSE ids) now answers sync_required. */
  expireChangeLog(): Promise<void>;
  /** The next `count` requests (matching `path`, relative to sim.url) fail with `status`; count 0 clears. */
  failNext(o: { count: number; status: number; path?: string; retryAfterSeconds?: number }): Promise<void>;
  /** The next `count` matching requests are applied, then their sockets destroyed unanswered. */
  dropNextResponses(o: { count: number; path?: string }): Promise<void>;
  /** Delays every response by `ms` (0 clears). */
  setLatency(ms: number): Promise<void>;
  /** Destroys every open SSE stream. */
  cutEventStreams(): Promise<void>;
}

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function snapshotOf(sim: SimServer): SimSnapshot {
  const s = sim.store;
  const clone = <T>(v: T): T => structuredClone(v);
  return {
    messages: [...s.messages.values()].map((m) => clone(m.summary)).sort(byId),
    threads: [...s.threads.values()]
      .map((t) => {
        const { states: _states, ...rest } = s.threadSummary(t);
        return clone(rest);
      })
      .sort(byId),
    folders: [...s.folders.values()].map((f) => clone(f.folder)).sort(byId),
    identities: [...s.identities.values()].map((i) => clone(i.record)).sort(byId),
    submissions: [...s.submissions.values()].map((x) => clone(x.record)).sort(byId),
    quotas: [...s.quotas.values()].map((q) => clone(q.record)).sort(byId),
  };
}

export function createControl(sim: SimServer): SimControl {
  const s = sim.store;
  return {
    async deliver(input = {}) {
      return { id: s.deliver(input).summary.id };
    },
    async setFlags(ids, patch) {
      s.setFlags(ids, patch);
    },
    async trash(ids) {
      s.trash(ids);
    },
    async destroy(ids) {
      s.destroy(ids);
    },
    async createFolder(name, parentId = null) {
      return { id: s.createFolder(name, parentId ?? null).id };
    },
    async renameFolder(id, name) {
      s.updateFolder(id, { name });
    },
    async deleteFolder(id) {
      s.deleteFolder(id);
    },
    async updateIdentity(patch) {
      s.updateIdentity(patch);
    },
    async expireChangeLog() {
      s.log.expire();
      sim.events.expire();
      sim.ctx.messageQueries.clear();
      sim.ctx.folderQueries.clear();
    },
    async failNext(o) {
      sim.faults.failNext(o);
    },
    async dropNextResponses(o) {
      sim.faults.dropNextResponses(o);
    },
    async setLatency(ms) {
      sim.faults.latencyMs = Math.max(0, ms);
    },
    async cutEventStreams() {
      sim.events.cutAll();
    },
  };
}

type Args = Record<string, unknown>;
const str = (a: Args, k: string): string => {
  const v = a[k];
  if (typeof v !== 'string') throw new ControlError(`"${k}" must be a string`);
  return v;
};
const ids = (a: Args): string[] => {
  const v = a.ids;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ControlError('"ids" must be an array of strings');
  return v as string[];
};
const num = (a: Args, k: string): number => {
  const v = a[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ControlError(`"${k}" must be a number`);
  return v;
};

class ControlError extends Error {}

/** HTTP binding: POST /__sim/<name> with a JSON body of the arguments; GET /__sim/snapshot and /__sim/stats. */
export function controlHttpHandler(sim: SimServer, control: SimControl) {
  const calls: Record<string, (a: Args) => Promise<unknown>> = {
    deliver: (a) => control.deliver(a as ControlDeliverInput),
    setFlags: (a) => control.setFlags(ids(a), (a.patch ?? {}) as FlagPatch),
    trash: (a) => control.trash(ids(a)),
    destroy: (a) => control.destroy(ids(a)),
    createFolder: (a) => control.createFolder(str(a, 'name'), typeof a.parentId === 'string' ? a.parentId : null),
    renameFolder: (a) => control.renameFolder(str(a, 'id'), str(a, 'name')),
    deleteFolder: (a) => control.deleteFolder(str(a, 'id')),
    updateIdentity: (a) => control.updateIdentity((a.patch ?? a) as { name?: string }),
    expireChangeLog: () => control.expireChangeLog(),
    failNext: (a) => control.failNext({ count: num(a, 'count'), status: typeof a.status === 'number' ? a.status : 500, ...(typeof a.path === 'string' ? { path: a.path } : {}), ...(typeof a.retryAfterSeconds === 'number' ? { retryAfterSeconds: a.retryAfterSeconds } : {}) }),
    dropNextResponses: (a) => control.dropNextResponses({ count: num(a, 'count'), ...(typeof a.path === 'string' ? { path: a.path } : {}) }),
    setLatency: (a) => control.setLatency(num(a, 'ms')),
    cutEventStreams: () => control.cutEventStreams(),
  };
  return async (req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void> => {
    const send = (status: number, value: unknown) => {
      const text = JSON.stringify(value ?? { ok: true });
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(text);
    };
    const method = (req.method ?? 'GET').toUpperCase();
    const name = path.replace(/^\//, '');
    try {
      if (method === 'GET' && name === 'snapshot') return send(200, snapshotOf(sim));
      if (method === 'GET' && name === 'stats') return send(200, sim.getStats());
      if (method === 'GET' && name === 'info') return send(200, { url: sim.url, mailbox_id: sim.store.mailboxId });
      const call = calls[name];
      if (method !== 'POST' || !call) return send(404, { ok: false, error: `unknown control call ${method} /__sim/${name}` });
      const text = body.toString('utf8').trim();
      const args = text === '' ? {} : (JSON.parse(text) as Args);
      const result = await call(args);
      return send(200, result === undefined ? { ok: true } : result);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return send(err instanceof ControlError || err instanceof SyntaxError ? 400 : 422, { ok: false, error: message });
    }
  };
}

