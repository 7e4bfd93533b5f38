// Hostile input, record by record (issue #10): every sync type's record is checked
// before it reaches the replica.
// 1. Against the spec: for each type, a real simulator record passes its check, and
//    dropping any field the spec's list item marks required, or giving it a value of
//    a type the spec does not allow, is refused with a protocol_error naming that
//    field. The required lists are read from the spec, so a new required field fails
//    here until the check's table learns it.
// 2. Through the engine: a corrupted folder page or thread GET surfaces on errors$,
//    leaves the replica and its tokens untouched, and the next cycle converges.
import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../src/index.js';
import type { Simulator } from '../../src/sim/index.js';
import { SYNC_TYPES, getTokens, type SyncType } from '../../src/store/apply.js';
import type { SyncEngine } from '../../src/engine.js';
import {
  checkFolder,
  checkIdentity,
  checkMessage,
  checkPage,
  checkQuota,
  checkSubmission,
  checkThread,
} from '../../src/sync/recordChecks.js';
import { LIST_PATH, checkMessage as checkMessageFromRecords } from '../../src/sync/records.js';
import { snapshotDiff } from '../chaos/checks.js';
import { api, withSim, type Envelope } from '../helpers/sim.js';
import { loadSpec, specAvailable } from '../helpers/spec.js';
import { editJson, type HostileFetch } from './hostileFetch.js';
import { startHostileRig, type HostileRig } from './rig.js';

// ---------------------------------------------------------------------------
// 1. The checks against the spec
// ---------------------------------------------------------------------------

type Schema = Record<string, unknown>;

const CHECKS: Record<SyncType, (value: unknown, where: string) => unknown> = {
  messages: checkMessage,
  folders: checkFolder,
  threads: checkThread,
  identities: checkIdentity,
  quotas: checkQuota,
  submissions: checkSubmission,
};

/** Reads a schema out of the spec: follows `$ref`, flattens `allOf` into its parts. */
function specReader() {
  const schemas = loadSpec().components.schemas as Record<string, Schema>;
  const deref = (s: Schema): Schema => {
    const ref = s.$ref;
    if (typeof ref !== 'string') return s;
    const target = schemas[ref.replace('#/components/schemas/', '')];
    if (!target) throw new Error(`spec: dangling ${ref}`);
    return deref(target);
  };
  // allOf of closed schemas is a known spec defect (nothing validates against it):
  // read it as the union of its parts, which is what the API means.
  const parts = (s: Schema): Schema[] => {
    const d = deref(s);
    return Array.isArray(d.allOf) ? (d.allOf as Schema[]).flatMap(parts) : [d];
  };
  const required = (s: Schema): string[] => [...new Set(parts(s).flatMap((p) => (p.required as string[] | undefined) ?? []))];
  const property = (s: Schema, name: string): Schema | undefined => {
    for (const p of parts(s)) {
      const prop = (p.properties as Record<string, Schema> | undefined)?.[name];
      if (prop) return prop;
    }
    return undefined;
  };
  /** JSON types a value may have (union over allOf parts: `$ref` + `type: [object, null]` means nullable). */
  const types = (s: Schema): Set<string> => {
    const out = new Set<string>();
    for (const p of parts(s)) {
      if (typeof p.type === 'string') out.add(p.type);
      else if (Array.isArray(p.type)) for (const t of p.type as string[]) out.add(t);
    }
    return out;
  };
  /** The list endpoint's item schema: what the replica stores for a type. */
  const listItem = (path: string): Schema => {
    const op = loadSpec().paths[path]?.get;
    const body = op?.responses['200']?.content?.['application/json']?.schema as Schema | undefined;
    if (!body) throw new Error(`spec: no 200 JSON body for GET ${path}`);
    const data = property(body, 'data');
    if (!data?.items) throw new Error(`spec: GET ${path} has no data list`);
    return data.items as Schema;
  };
  return { required, property, types, listItem };
}

/** The JSON type of a value, as JSON Schema names it. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function allowedBy(types: Set<string>, v: unknown): boolean {
  const t = jsonType(v);
  return types.has(t) || (t === 'integer' && types.has('number'));
}

const CANDIDATES: readonly unknown[] = ['x', 42.5, 7, true, [], {}, null];

/** Values the spec forbids for a property: wrong JSON types, and lists of wrong items. */
function wrongValues(reader: ReturnType<typeof specReader>, prop: Schema): unknown[] {
  const types = reader.types(prop);
  if (types.size === 0) throw new Error(`spec: property without a type: ${JSON.stringify(prop)}`);
  const out = CANDIDATES.filter((v) => !allowedBy(types, v));
  const items = prop.items as Schema | undefined;
  if (types.has('array') && items) {
    const itemTypes = reader.types(items);
    const badItem = CANDIDATES.find((v) => itemTypes.size > 0 && !allowedBy(itemTypes, v));
    if (badItem !== undefined) out.push([badItem]);
  }
  return out;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectRefused(fn: () => unknown, field: string, context: string): void {
  const error = thrown(fn);
  expect(error, context).toBeInstanceOf(SyncError);
  expect((error as SyncError).code, context).toBe('protocol_error');
  expect((error as SyncError).message, context).toMatch(new RegExp(`\\b${field}\\b`));
}

describe.skipIf(!specAvailable)('record checks follow the spec', () => {
  it.each([...SYNC_TYPES])('%s: a real record passes; each required field missing or mistyped is refused', async (type) => {
    const reader = specReader();
    const sim = await withSim({ seed: 3, messages: 40 });
    const res = await api<Envelope<Record<string, unknown>[]>>(sim, 'GET', `${LIST_PATH[type]}?limit=50`);
    expect(res.status).toBe(200);
    const records = res.body.data;
    expect(records.length, `the simulator lists some ${type}`).toBeGreaterThan(0);
    const check = CHECKS[type];
    const where = `GET ${LIST_PATH[type]}`;
    for (const record of records) expect(check(record, where)).toBe(record);
    // Fields the spec does not declare are let through (a newer server may add some).
    const sample = records.find((r) => r.last_message !== null) ?? (records[0] as Record<string, unknown>);
    expect(check({ ...sample, added_by_a_newer_server: 1 }, where)).toBeDefined();

    const item = reader.listItem(LIST_PATH[type]);
    const required = reader.required(item);
    expect(required).toContain('id');
    for (const field of required) {
      const { [field]: _dropped, ...without } = sample;
      expectRefused(() => check(without, where), field, `${type} without ${field}`);
      const prop = reader.property(item, field);
      if (!prop) throw new Error(`spec: ${type} requires ${field} but does not declare it`);
      const wrong = wrongValues(reader, prop);
      expect(wrong.length, `${type}.${field} has wrong values to try`).toBeGreaterThan(0);
      for (const value of wrong) {
        expectRefused(() => check({ ...sample, [field]: value }, where), field, `${type}.${field} = ${JSON.stringify(value)}`);
      }
    }
  });
});

describe('record checks: shapes the spec leaves implicit', () => {
  const folder = {
    id: 'fld_a',
    name: 'A',
    parent_id: null,
    role: null,
    sort_order: 1,
    total_messages: 2,
    unread_messages: 1,
    can_add_items: true,
  };
  const message = {
    id: 'msg_a',
    thread_id: 'thr_a',
    folder_ids: ['fld_a'],
    subject: 's',
    preview: 'p',
    from: { name: null, email: 'a@example.com' },
    to: [],
    cc: [],
    bcc: [],
    received_at: '2026-01-01T00:00:00Z',
    sent_at: null,
    size_bytes: 10,
    has_attachments: false,
    keywords: [],
    flags: { seen: false, flagged: false, draft: false, answered: false },
  };
  const thread = {
    id: 'thr_a',
    subject: 's',
    message_count: 1,
    unread_count: 1,
    has_attachments: false,
    folder_ids: ['fld_a'],
    participants: [],
    last_message: message,
    states: { thread_state: null, email_state: null },
  };

  it('records.ts still exports checkMessage', () => {
    expect(checkMessageFromRecords).toBe(checkMessage);
  });

  it('refuses non-objects and records without an id', () => {
    for (const value of [null, 'fld_a', [folder], 3]) expectRefused(() => checkFolder(value, 'here'), 'folder', String(value));
    expectRefused(() => checkFolder({ ...folder, id: '' }, 'here'), 'id', 'empty id');
    expectRefused(() => checkFolder({ ...folder, id: 5 }, 'here'), 'id', 'numeric id');
  });

  it("checks a thread's last message as a message (the store indexes last_message.received_at)", () => {
    expect(checkThread(thread, 'here')).toBe(thread);
    expect(checkThread({ ...thread, last_message: null }, 'here')).toBeDefined();
    expectRefused(() => checkThread({ ...thread, last_message: { ...message, received_at: 5 } }, 'here'), 'last_message', 'nested received_at');
    expectRefused(() => checkThread({ ...thread, last_message: { ...message, id: '' } }, 'here'), 'last_message', 'nested id');
  });

  it('checks message flags field by field (memberships key on seen and flagged)', () => {
    expectRefused(() => checkMessage({ ...message, flags: { seen: 'no', flagged: false, draft: false, answered: false } }, 'here'), 'flags', 'seen');
    expectRefused(() => checkMessage({ ...message, flags: {} }, 'here'), 'flags', 'empty flags');
  });

  it('names the call and the record in the error', () => {
    const error = thrown(() => checkFolder({ ...folder, total_messages: '2', unread_messages: undefined }, 'GET /mailbox/folders'));
    expect((error as Error).message).toBe('GET /mailbox/folders: folder fld_a has missing or mistyped total_messages, unread_messages');
  });

  it('refuses a page that is not a list or carries an id twice', () => {
    expect(checkPage('folders', [folder, { ...folder, id: 'fld_b' }], 'here')).toHaveLength(2);
    expectRefused(() => checkPage('folders', [folder, { ...folder, name: 'impostor' }], 'here'), 'fld_a', 'duplicate');
    expectRefused(() => checkPage('folders', { 0: folder }, 'here'), 'list', 'not a list');
    expectRefused(() => checkPage('folders', [folder, null], 'here'), 'object', 'null item');
  });
});

// ---------------------------------------------------------------------------
// 2. Through the engine
// ---------------------------------------------------------------------------

let sim: Simulator | undefined;
let engine: SyncEngine | undefined;

afterEach(async () => {
  await engine?.sync.stop();
  await sim?.close();
  engine = undefined;
  sim = undefined;
});

/** The hostile rig, torn down after each test. */
async function setup(pageSize?: number): Promise<HostileRig> {
  const rig = await startHostileRig({ dbName: 'hostile-records', ...(pageSize ? { pageSize } : {}) });
  ({ sim, engine } = rig);
  return rig;
}

/** Remote changes that move folder and thread counters: flags on three messages and a delivery. */
async function remoteChanges(s: Simulator): Promise<void> {
  const msgs = (await s.snapshot()).messages.slice(0, 3);
  for (const m of msgs) await s.control.setFlags([m.id], { seen: !m.flags.seen });
  await s.control.deliver({ subject: 'incoming', text: 'hello' });
}

/**
 * Makes remote changes, arms a corruption, pulls: the pull rejects with a
 * protocol_error that is also on errors$ and names `mention`; replica and tokens are
 * untouched; after healing, the next pull converges.
 */
async function expectRefusedThenConverges(pageSize: number | undefined, arm: (proxy: HostileFetch) => void, mention: RegExp): Promise<void> {
  const t = await setup(pageSize);
  await remoteChanges(t.sim);
  const db = (await t.engine.context).db;
  const before = await t.engine.sync.snapshot();
  const tokensBefore = await getTokens(db);
  const seen = t.errors.length;
  arm(t.proxy);
  const error = await t.engine.sync.syncNow().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(t.proxy.corrupted).toBeGreaterThan(0);
  expect(error).toBeInstanceOf(SyncError);
  expect((error as SyncError).code).toBe('protocol_error');
  expect((error as SyncError).message).toMatch(mention);
  const reported = t.errors.slice(seen);
  expect(reported.length).toBeGreaterThan(0);
  for (const e of reported) expect(e.code).toBe('protocol_error');
  expect(await t.engine.sync.snapshot()).toEqual(before);
  expect(await getTokens(db)).toEqual(tokensBefore);
  t.proxy.heal();
  await t.engine.sync.syncNow();
  expect(snapshotDiff(await t.engine.sync.snapshot(), await t.sim.snapshot())).toBeUndefined();
}

/** Edits the first record of a list response. */
function editFirstRecord(edit: (r: Record<string, unknown>) => void) {
  return editJson((body) => {
    const first = (body.data as Record<string, unknown>[])[0];
    if (first) edit(first);
  });
}

describe('hostile records through the engine', () => {
  it('a folder page with a folder missing unread_messages', async () => {
    await expectRefusedThenConverges(
      undefined,
      (proxy) => proxy.corruptNext('GET', '/mailbox/folders', editFirstRecord((f) => delete f.unread_messages)),
      /GET \/mailbox\/folders: folder \S+ has missing or mistyped unread_messages/,
    );
  });

  it('a folder page with a string counter', async () => {
    await expectRefusedThenConverges(
      undefined,
      (proxy) => proxy.corruptNext('GET', '/mailbox/folders', editFirstRecord((f) => (f.total_messages = '12'))),
      /total_messages/,
    );
  });

  it('a folder page carrying one id twice', async () => {
    await expectRefusedThenConverges(
      undefined,
      (proxy) =>
        proxy.corruptNext(
          'GET',
          '/mailbox/folders',
          editJson((body) => {
            const data = body.data as Record<string, unknown>[];
            const first = data[0];
            if (first) data.push({ ...first, name: 'an impostor with the same id', unread_messages: 999 });
          }),
        ),
      /appears twice in one page/,
    );
  });

  it('a thread GET whose folder_ids is a string', async () => {
    // A small page size makes re-listing threads cost more calls than a GET per changed thread.
    await expectRefusedThenConverges(
      5,
      (proxy) =>
        proxy.corruptNext(
          'GET',
          /^\/mailbox\/threads\/[^/]+$/,
          editJson((body) => {
            (body.data as Record<string, unknown>).folder_ids = 'fld_inbox';
          }),
        ),
      /GET \/mailbox\/threads\/\S+: thread \S+ has missing or mistyped folder_ids/,
    );
  });
});
