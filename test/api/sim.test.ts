// Integration: the client against the simulator over real HTTP. Every method is
// called and its decoded response re-validated against the spec (what the client
// hands back is the documented shape); errors, retries, ETags and SSE end to end.
import { firstValueFrom, filter, take, toArray, type Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMailboxApi,
  newIdempotencyKey,
  OPERATIONS,
  SendmuxApiError,
  type ApiResponse,
  type MailboxApi,
  type MailboxStreamEvent,
  type MethodName,
} from '../../src/api/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { ResponseValidator } from '../../src/sim/validate.js';
import { specAvailable } from '../helpers/spec.js';

// The spec's allOf-of-closed-schemas (MailboxMessage, MailboxThread, MailboxMe,
// MailboxRealtimeMessage) rejects every instance under strict validation; the
// simulator's validator repairs exactly that idiom (see test/sim/conformance.test.ts).
let validator: ResponseValidator;

let sim: Simulator;
let api: MailboxApi;
const called = new Set<MethodName>();

/** Re-wraps a decoded response as the envelope and validates it against the operation's documented schema. */
function conforms(name: MethodName, res: ApiResponse<unknown>): void {
  called.add(name);
  const op = OPERATIONS[name];
  const envelope = { ok: true, data: res.data, ...(res.pagination ? { pagination: res.pagination } : {}), meta: res.meta };
  expect(validator.response(op.method, op.path, res.status === 304 ? 200 : res.status, envelope), name).toEqual([]);
}

async function until(cond: () => boolean, what: string, ms = 8000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(!specAvailable)('client ↔ simulator', () => {
  beforeAll(async () => {
    validator = new ResponseValidator();
    sim = await startSimulator({ port: 0, seed: 1, messages: 200, validateResponses: true });
    api = createMailboxApi({ apiKey: sim.apiKey, baseUrl: sim.url, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('every method decodes the simulator responses into the documented shapes', async () => {
    conforms('getSession', await api.getSession());
    conforms('getMe', await api.getMe());
    try {
      conforms('listGrantedMailboxes', await api.listGrantedMailboxes({ limit: 10 }));
    } catch (e) {
      // Mailbox keys are not connected-app tokens: the documented refusal is a typed 403.
      expect(e).toBeInstanceOf(SendmuxApiError);
      expect(e).toMatchObject({ status: 403, code: 'insufficient_permissions' });
      called.add('listGrantedMailboxes');
    }
    conforms('getIdentity', await api.getIdentity());
    conforms('updateIdentity', await api.updateIdentity({ body: { name: 'Support' } }));
    conforms('listIdentities', await api.listIdentities());

    const folders = await api.listFolders({ limit: 100 });
    conforms('listFolders', folders);
    const inbox = folders.data.find((f) => f.role === 'inbox') ?? folders.data[0];
    expect(inbox).toBeDefined();
    conforms('getFolder', await api.getFolder({ folder_id: inbox!.id }));
    conforms('getFolderChanges', await api.getFolderChanges());
    conforms('queryFolderChanges', await api.queryFolderChanges());
    const created = await api.createFolder({ body: { name: `Client test ${Date.now()}` } });
    conforms('createFolder', created);
    conforms('updateFolder', await api.updateFolder({ folder_id: created.data.id, body: { name: 'Renamed by client' } }));
    conforms('deleteFolder', await api.deleteFolder({ folder_id: created.data.id }));

    const list = await api.listMessages({ folder_id: inbox!.id, limit: 5, sort_by: 'received_at', sort_direction: 'desc' });
    conforms('listMessages', list);
    const ids = list.data.map((m) => m.id);
    expect(ids.length).toBeGreaterThan(1);
    const id = ids[0]!;
    conforms('getMessage', await api.getMessage({ message_id: id }));
    conforms('listBody', await api.listBody({ message_id: id }));
    conforms('listContent', await api.listContent({ message_id: id }));
    conforms('batchGetMessages', await api.batchGetMessages({ body: { ids } }));
    conforms('countMessages', await api.countMessages({ folder_id: inbox!.id }));
    conforms('queryMessageChanges', await api.queryMessageChanges({ folder_id: inbox!.id, limit: 10 }));
    conforms('searchMessageSnippets', await api.searchMessageSnippets({ message_ids: ids.join(','), q: 'the' }));
    const session = await api.getSession();
    conforms('batchUpdateMessages', await api.batchUpdateMessages({ body: { ids: [id], seen: true, if_in_state: session.data.states.messages ?? undefined } }));
    conforms('updateMessage', await api.updateMessage({ message_id: id, body: { flagged: true } }));
    conforms('deleteMessage', await api.deleteMessage({ message_id: ids[1]! }));
    conforms('batchDeleteMessages', await api.batchDeleteMessages({ body: { ids: [ids[2] ?? id] } }));

    const threads = await api.listThreads({ limit: 5 });
    conforms('listThreads', threads);
    const threadId = threads.data[0]!.id;
    conforms('getThread', await api.getThread({ thread_id: threadId }));
    conforms('listThreadMessages', await api.listThreadMessages({ thread_id: threadId }));
    conforms('getThreadContent', await api.getThreadContent({ thread_id: threadId }));

    const delivered = await sim.control.deliver({ subject: 'With attachment', text: 'see file', attachments: [{ filename: 'notes.txt', content_type: 'text/plain', content: 'hello attachment' }] });
    const detail = await api.getMessage({ message_id: delivered.id });
    const att = detail.data.attachments?.[0];
    expect(att).toBeDefined();
    const whole = await api.getMessageAttachment({ message_id: delivered.id, attachment_id: att!.id });
    called.add('getMessageAttachment');
    expect(new TextDecoder().decode(whole.data)).toBe('hello attachment');
    const part = await api.getMessageAttachment({ message_id: delivered.id, attachment_id: att!.id, range: { start: 0, end: 4 } });
    expect(part.status).toBe(206);
    expect(new TextDecoder().decode(part.data)).toBe('hello');
    expect(part.totalSize).toBe(16);

    const upload = await api.uploadAttachment({ filename: 'a.txt', body: new TextEncoder().encode('abc'), contentType: 'text/plain' });
    conforms('uploadAttachment', upload);
    conforms('createAttachmentUpload', await api.createAttachmentUpload({ body: { filename: 'b.pdf', content_type: 'application/pdf', size_bytes: 10 } }));
    const sent = await api.sendMessage(
      {
        body: {
          to: [{ email: 'someone@example.com', name: null }],
          subject: 'From the client',
          text_body: 'hi',
          attachments: [{ filename: 'a.txt', content_type: 'text/plain', blob_id: upload.data.blob_id }],
        },
      },
      { idempotencyKey: newIdempotencyKey() },
    );
    conforms('sendMessage', sent);

    const subs = await api.listSubmissions({ limit: 10 });
    conforms('listSubmissions', subs);
    conforms('getSubmissionChanges', await api.getSubmissionChanges());
    expect(subs.data.length).toBeGreaterThan(0);
    conforms('getSubmission', await api.getSubmission({ submission_id: subs.data[0]!.id }));
    conforms('listQuotas', await api.listQuotas());
    conforms('getQuotaChanges', await api.getQuotaChanges());
    conforms('listUsage', await api.listUsage());
    conforms('getChanges', await api.getChanges());
    conforms('getChanges', await api.getChanges({ types: 'messages,folders,threads,submissions,identities,quotas', messages_since_state: session.data.states.messages ?? undefined }));

    expect([...called].sort()).toEqual(Object.keys(OPERATIONS).sort());
    expect(sim.validationFailures()).toEqual([]);
  });

  it('pages() walks the whole mailbox listing with no gaps or duplicates', async () => {
    const seen: string[] = [];
    let pages = 0;
    for await (const page of api.pages('listMessages', { limit: 37 }, { priority: 'background' })) {
      pages += 1;
      seen.push(...page.data.map((m) => m.id));
    }
    const snap = await sim.snapshot();
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(snap.messages.map((m) => m.id).sort());
    expect(pages).toBe(Math.ceil(snap.messages.length / 37));
  });

  it('conditional GETs: the second read is a 304 answered from the ETag cache', async () => {
    // Messages with attachments may answer 200 to refresh download URLs (spec, GET message), so use one without.
    const { data } = await api.listMessages({ limit: 50 });
    const plain = data.find((m) => !m.has_attachments);
    expect(plain).toBeDefined();
    const first = await api.getMessage({ message_id: plain!.id });
    expect(first.etag).toBeTruthy();
    const second = await api.getMessage({ message_id: plain!.id });
    expect(second.notModified).toBe(true);
    expect(second.status).toBe(304);
    expect(second.data).toEqual(first.data);
    await sim.control.setFlags([plain!.id], { flagged: !first.data.flags.flagged });
    const third = await api.getMessage({ message_id: plain!.id });
    expect(third.notModified).toBeUndefined();
    expect(third.data.flags.flagged).toBe(!first.data.flags.flagged);
  });

  it('If-Match with a stale ETag is a typed 409', async () => {
    const { data } = await api.listFolders();
    const folder = await api.createFolder({ body: { name: `etag ${Date.now()}` } });
    const got = await api.getFolder({ folder_id: folder.data.id });
    await api.updateFolder({ folder_id: folder.data.id, body: { name: 'first edit' } }, { ifMatch: got.etag! });
    const err = await api.updateFolder({ folder_id: folder.data.id, body: { name: 'second edit' } }, { ifMatch: got.etag! }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendmuxApiError);
    expect(err).toMatchObject({ status: 409, retryable: false });
    expect(data.length).toBeGreaterThan(0);
  });

  it('maps the simulator errors: 404, 401 (key never echoed), 400 with param, 409 stale if_in_state', async () => {
    await expect(api.getMessage({ message_id: 'msg_does_not_exist' })).rejects.toMatchObject({ status: 404, code: 'not_found', retryable: false });
    const bad = createMailboxApi({ apiKey: 'smx_mbx_wrong_key_zzz', baseUrl: sim.url });
    const unauth = await bad.getSession().catch((e: unknown) => e);
    expect(unauth).toMatchObject({ status: 401, code: 'authentication_required', retryable: false });
    expect((unauth as SendmuxApiError).requestId).toBeTruthy();
    expect(JSON.stringify(unauth) + String(unauth)).not.toContain('smx_mbx_wrong_key_zzz');
    const badParam = await api.listMessages({ limit: 100_000 }).catch((e: unknown) => e);
    expect(badParam).toMatchObject({ status: 400, retryable: false });
    const { data } = await api.listMessages({ limit: 1 });
    const session = await api.getSession();
    await sim.control.setFlags([data[0]!.id], { seen: false });
    const conflict = await api.batchUpdateMessages({ body: { ids: [data[0]!.id], seen: true, if_in_state: session.data.states.messages ?? 'x' } }).catch((e: unknown) => e);
    expect(conflict).toMatchObject({ status: 409, retryable: false });
  });

  it.each([
    [400, 'invalid_parameter', false],
    [401, 'authentication_required', false],
    [403, 'insufficient_permissions', false],
    [404, 'not_found', false],
    [409, 'conflict', false],
    [413, 'payload_too_large', false],
    [422, 'validation_error', false],
    [429, 'rate_limit_exceeded', true],
    [500, 'internal_error', true],
    [503, 'service_unavailable', true],
  ])('an injected %i over HTTP becomes SendmuxApiError %s (retryable %s) with the request id', async (status, code, retryable) => {
    const once = createMailboxApi({ apiKey: sim.apiKey, baseUrl: sim.url, rateLimit: false });
    await sim.control.failNext({ count: 1, status, path: '/mailbox/threads', retryAfterSeconds: retryable ? 2 : undefined });
    const err = await once.listThreads({ limit: 1 }, { retry: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendmuxApiError);
    expect(err).toMatchObject({ status, code, retryable, retryAfterMs: retryable ? 2000 : undefined });
    expect((err as SendmuxApiError).requestId).toMatch(/\S/);
  });

  it('a dropped response: idempotent calls are retried; a send with an Idempotency-Key is delivered once', async () => {
    const before = (await api.listSubmissions({ limit: 100 })).data.length;
    await sim.control.dropNextResponses({ count: 1, path: '/mailbox/messages/send' });
    const key = newIdempotencyKey();
    const body = { to: [{ email: 'once@example.com', name: null }], subject: 'exactly once', text_body: 'x' };
    const sent = await api.sendMessage({ body }, { idempotencyKey: key });
    expect(sent.data.status).toBe('queued');
    const after = (await api.listSubmissions({ limit: 100 })).data.length;
    expect(after - before).toBe(1);
    // Without a key the client must not resend: the caller sees network_error.
    await sim.control.dropNextResponses({ count: 1, path: '/mailbox/messages/send' });
    await expect(api.sendMessage({ body: { ...body, subject: 'no key' } })).rejects.toMatchObject({ code: 'network_error', status: 0 });
    expect((await api.listSubmissions({ limit: 100 })).data.length - after).toBe(1);
    await sim.control.dropNextResponses({ count: 1, path: '/mailbox/messages:batch-update' });
    const { data } = await api.listMessages({ limit: 1 });
    await expect(api.batchUpdateMessages({ body: { ids: [data[0]!.id], seen: true } })).resolves.toMatchObject({ status: 200 });
  });

  it('retries injected 503/429 with Retry-After and gives up at the attempt limit', async () => {
    const path = '/mailbox/session';
    api.clearCache();
    sim.resetStats();
    await sim.control.failNext({ count: 2, status: 503, path, retryAfterSeconds: 0 });
    await expect(api.getSession()).resolves.toMatchObject({ status: 200 });
    expect(sim.stats().requests).toBe(3);
    await sim.control.failNext({ count: 1, status: 429, path, retryAfterSeconds: 1 });
    const limited = await api.getSession();
    expect(limited.data.states).toBeDefined();
    expect(sim.stats().requests).toBe(5);
    await sim.control.failNext({ count: 10, status: 500, path });
    const err = await api.getSession().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500, retryable: true });
    expect(sim.stats().requests).toBe(9); // 4 attempts (the default limit)
    await sim.control.failNext({ count: 0, status: 500 });
    // An unsafe POST without an Idempotency-Key is not retried.
    await sim.control.failNext({ count: 1, status: 503, path: '/mailbox/folders' });
    await expect(api.createFolder({ body: { name: 'never twice' } })).rejects.toMatchObject({ status: 503 });
    const folders = await api.listFolders({ limit: 100 });
    expect(folders.data.some((f) => f.name === 'never twice')).toBe(false);
  });
});

describe.skipIf(!specAvailable)('events() ↔ simulator', () => {
  let live: Simulator;
  const subscriptions: Subscription[] = [];
  afterAll(async () => {
    for (const s of subscriptions) s.unsubscribe();
    await live?.close();
  });

  it('reconnects after cutEventStreams, resumes with Last-Event-ID and loses nothing', async () => {
    validator ??= new ResponseValidator();
    live = await startSimulator({ port: 0, seed: 2, messages: 20, pingIntervalMs: 50 });
    const client = createMailboxApi({ apiKey: live.apiKey, baseUrl: live.url, random: () => 0 });
    const events: MailboxStreamEvent[] = [];
    subscriptions.push(client.events({ heartbeatTimeoutMs: 2000 }).subscribe((e) => events.push(e)));
    await until(() => events.some((e) => e.type === 'open'), 'open');
    const delivered: string[] = [];
    delivered.push((await live.control.deliver({ subject: 'one' })).id);
    await until(() => events.filter((e) => e.type === 'message.received').length === 1, 'first event');
    await live.control.cutEventStreams();
    // Delivered while the stream is down: must be replayed after Last-Event-ID.
    delivered.push((await live.control.deliver({ subject: 'two' })).id);
    delivered.push((await live.control.deliver({ subject: 'three' })).id);
    await until(() => events.filter((e) => e.type === 'message.received').length === 3, 'replayed events');
    delivered.push((await live.control.deliver({ subject: 'four' })).id);
    await until(() => events.filter((e) => e.type === 'message.received').length === 4, 'live event after reconnect');
    const received = events.filter((e) => e.type === 'message.received');
    expect(received.map((e) => (e.data as { message_id: string }).message_id)).toEqual(delivered);
    expect(new Set(received.map((e) => e.id)).size).toBe(4);
    expect(events.filter((e) => e.type === 'open').length).toBe(2);
    for (const e of received) expect(validator.schema('MailboxRealtimeEvent', e.data)).toEqual([]);
  });

  it('a silent stream past the heartbeat window is reconnected and resumes', async () => {
    const quiet = await startSimulator({ port: 0, seed: 3, messages: 10, pingIntervalMs: 600_000 });
    try {
      const client = createMailboxApi({ apiKey: quiet.apiKey, baseUrl: quiet.url, random: () => 0 });
      const events: MailboxStreamEvent[] = [];
      const sub = client.events({ heartbeatTimeoutMs: 300 }).subscribe((e) => events.push(e));
      subscriptions.push(sub);
      await until(() => events.some((e) => e.type === 'open'), 'open');
      const first = await quiet.control.deliver({ subject: 'before silence' });
      await until(() => events.some((e) => e.type === 'message.received'), 'first event');
      await until(() => events.filter((e) => e.type === 'open').length >= 2, 'watchdog reconnect');
      const second = await quiet.control.deliver({ subject: 'after reconnect' });
      await until(() => events.filter((e) => e.type === 'message.received').length === 2, 'second event');
      expect(events.filter((e) => e.type === 'message.received').map((e) => (e.data as { message_id: string }).message_id)).toEqual([first.id, second.id]);
      sub.unsubscribe();
    } finally {
      await quiet.close();
    }
  });

  it('events gated (503) errors the Observable with SendmuxApiError', async () => {
    const gated = await startSimulator({ port: 0, seed: 4, messages: 5, eventsEnabled: false });
    try {
      const client = createMailboxApi({ apiKey: gated.apiKey, baseUrl: gated.url });
      const err = await firstValueFrom(client.events().pipe(filter(() => false), take(1), toArray())).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SendmuxApiError);
      expect(err).toMatchObject({ status: 503 });
      expect((await client.getSession()).data.gated.events).toBe(true);
    } finally {
      await gated.close();
    }
  });
});
