// Conformance: drives every path of the spec through every documented status code
// and validates each body against mailbox-openapi.json with the strict project
// validator (test/helpers/openapi.ts). A final test proves the coverage is complete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { ResponseValidator } from '../../src/sim/validate.js';
import { validateResponse, validateSchema } from '../helpers/openapi.js';
import { loadSpec, specAvailable } from '../helpers/spec.js';
import { openSse } from './sse.js';

/**
 * Operations whose documented schema no instance can satisfy under strict
 * validation: `allOf` of two schemas that both say additionalProperties:false
 * (MailboxMessage, MailboxThread, MailboxMe). For these the strict errors must be
 * exactly that defect, and the body must pass the repaired schema (src/sim/validate.ts).
 */
const SPEC_DEFECTS = new Set([
  'GET /mailbox/messages/{message_id} 200',
  'PATCH /mailbox/messages/{message_id} 200',
  'GET /mailbox/threads/{thread_id} 200',
  'GET /mailbox/me 200',
]);

interface Res {
  status: number;
  headers: Headers;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are checked by schema
}

describe.skipIf(!specAvailable)('simulator conformance with mailbox-openapi.json', { timeout: 120_000 }, () => {
  let sim: Simulator;
  let repaired: ResponseValidator;
  const covered = new Set<string>();
  const auth = (key?: string) => ({ Authorization: `Bearer ${key ?? sim.apiKey}` });

  beforeAll(async () => {
    sim = await startSimulator({ messages: 300, seed: 3, validateResponses: true, control: true, rateLimitPerMinute: 0 });
    repaired = new ResponseValidator();
  });
  afterAll(async () => {
    await sim?.close();
  });

  /** Calls `path` (concrete) as `method template`, expects `status`, validates the body. */
  async function call(method: string, template: string, path: string, status: number, init: { body?: unknown; raw?: BodyInit; headers?: Record<string, string>; key?: string | null } = {}): Promise<Res> {
    const headers: Record<string, string> = { ...(init.key === null ? {} : auth(init.key)), ...init.headers };
    let body: BodyInit | undefined = init.raw;
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const r = await fetch(sim.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await r.text();
    const res: Res = { status: r.status, headers: r.headers, text, body: undefined };
    expect(r.status, `${method} ${path}: ${text.slice(0, 300)}`).toBe(status);
    covered.add(`${method} ${template} ${status}`);
    expect(r.headers.get('x-request-id')).toMatch(/^req_/);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const type = r.headers.get('content-type') ?? '';
    if (status === 304) {
      expect(text).toBe('');
      expect(validateResponse(method, template, status, undefined)).toEqual([]);
      return res;
    }
    if (!type.startsWith('application/json')) return res;
    res.body = JSON.parse(text);
    expect(res.body.meta.request_id).toBe(r.headers.get('x-request-id'));
    const strict = validateResponse(method, template, status, res.body);
    if (SPEC_DEFECTS.has(`${method} ${template} ${status}`)) {
      expect(strict.length).toBeGreaterThan(0);
      for (const p of strict) expect(p).toMatch(/must NOT have additional properties/);
      expect(repaired.response(method, template, status, res.body)).toEqual([]);
    } else {
      expect(strict, `${method} ${template} ${status}`).toEqual([]);
    }
    if (status >= 400) {
      expect(res.body.ok).toBe(false);
      expect(res.body.error.doc_url).toContain(res.body.error.code);
      expect(res.body.error.retryable).toBe([429, 500, 503].includes(status));
    } else {
      expect(res.body.ok).toBe(true);
    }
    return res;
  }

  const first = async (template: string, query = '') => (await call('GET', template, `${template}${query}`, 200)).body.data[0];

  it('session, me, mailboxes, identity and identities', async () => {
    const s = await call('GET', '/mailbox/session', '/mailbox/session', 200);
    await call('GET', '/mailbox/session', '/mailbox/session', 304, { headers: { 'If-None-Match': s.headers.get('etag') ?? '' } });
    await call('GET', '/mailbox/session', '/mailbox/session', 401, { key: 'smx_mbx_wrong' });
    await call('GET', '/mailbox/session', '/mailbox/session', 403, { key: 'smx_root_admin' });
    await sim.control.failNext({ count: 1, status: 503, path: '/mailbox/session', retryAfterSeconds: 3 });
    const unavailable = await call('GET', '/mailbox/session', '/mailbox/session', 503);
    expect(unavailable.headers.get('retry-after')).toBe('3');

    const me = await call('GET', '/mailbox/me', '/mailbox/me', 200);
    expect(me.body.data.id).toBe(sim.mailboxId);
    await call('GET', '/mailbox/me', '/mailbox/me', 304, { headers: { 'If-None-Match': me.headers.get('etag') ?? '' } });
    await call('GET', '/mailbox/me', '/mailbox/me', 401, { key: null });
    await call('GET', '/mailbox/me', '/mailbox/me', 403, { key: 'smx_root_admin' });
    await call('GET', '/mailbox/me', '/mailbox/me?mailbox_id=mbx_someone_else', 404);
    await call('GET', '/mailbox/me', `/mailbox/me?mailbox_id=${sim.mailboxId}`, 200);

    await call('GET', '/mailbox/mailboxes', '/mailbox/mailboxes?q=agent', 200);
    await call('GET', '/mailbox/mailboxes', '/mailbox/mailboxes', 401, { key: 'nope' });
    await call('GET', '/mailbox/mailboxes', '/mailbox/mailboxes', 403, { key: 'smx_root_admin' });

    await call('GET', '/mailbox/identity', '/mailbox/identity', 200);
    await call('GET', '/mailbox/identity', '/mailbox/identity', 401, { key: null });
    await call('GET', '/mailbox/identity', '/mailbox/identity', 403, { key: 'smx_root_admin' });
    await sim.control.failNext({ count: 1, status: 503, path: '/mailbox/identity' });
    await call('GET', '/mailbox/identity', '/mailbox/identity', 503);
    await call('PATCH', '/mailbox/identity', '/mailbox/identity', 200, { body: { name: 'Support Agent', text_signature: 'Regards' } });
    await call('PATCH', '/mailbox/identity', '/mailbox/identity', 400, { body: { nickname: 'x' } });
    await call('PATCH', '/mailbox/identity', '/mailbox/identity', 401, { key: null, body: {} });
    await call('PATCH', '/mailbox/identity', '/mailbox/identity', 403, { key: 'smx_root_admin', body: {} });
    await call('PATCH', '/mailbox/identity', '/mailbox/identity', 413, { body: { name: 'x'.repeat(1_100_000) } });
    await call('PATCH', '/mailbox/identity', '/mailbox/identity', 422, { body: { name: '   ' } });
    await sim.control.failNext({ count: 1, status: 503, path: '/mailbox/identity' });
    await call('PATCH', '/mailbox/identity', '/mailbox/identity', 503, { body: {} });

    await call('GET', '/mailbox/identities', '/mailbox/identities?limit=1', 200);
    await call('GET', '/mailbox/identities', '/mailbox/identities?limit=0', 400);
    await call('GET', '/mailbox/identities', '/mailbox/identities', 401, { key: null });
    await call('GET', '/mailbox/identities', '/mailbox/identities', 403, { key: 'smx_root_admin' });
  });

  it('message reads: list, count, query-changes, snippets, detail, body, content, attachments', async () => {
    const list = await call('GET', '/mailbox/messages', '/mailbox/messages?limit=5&sort_by=subject&sort_direction=asc', 200);
    expect(list.body.pagination.has_more).toBe(true);
    await call('GET', '/mailbox/messages', `/mailbox/messages?limit=5&cursor=${list.body.pagination.next_cursor}&sort_by=subject&sort_direction=asc`, 200);
    await call('GET', '/mailbox/messages', '/mailbox/messages?cursor=not-a-cursor', 400);
    await call('GET', '/mailbox/messages', `/mailbox/messages?cursor=${list.body.pagination.next_cursor}`, 400);
    await call('GET', '/mailbox/messages', '/mailbox/messages?limit=101', 400);
    await call('GET', '/mailbox/messages', '/mailbox/messages?is_unread=maybe', 400);
    await call('GET', '/mailbox/messages', '/mailbox/messages?after=yesterday', 400);
    await call('GET', '/mailbox/messages', '/mailbox/messages', 401, { key: null });
    await call('GET', '/mailbox/messages', '/mailbox/messages', 403, { key: 'smx_root_admin' });

    await call('GET', '/mailbox/messages/count', '/mailbox/messages/count?is_unread=true&has_attachment=false', 200);
    await call('GET', '/mailbox/messages/count', '/mailbox/messages/count?min_size_bytes=-1', 400);
    const qc = await call('GET', '/mailbox/messages/query-changes', '/mailbox/messages/query-changes?q=invoice&calculate_total=true', 200);
    await call('GET', '/mailbox/messages/query-changes', `/mailbox/messages/query-changes?q=invoice&since_query_state=${qc.body.data.new_query_state}`, 200);
    await call('GET', '/mailbox/messages/query-changes', '/mailbox/messages/query-changes?since_query_state=qsbogus', 400);
    await call('GET', '/mailbox/messages/search-snippets', '/mailbox/messages/search-snippets?q=the&limit=3', 200);
    await call('GET', '/mailbox/messages/search-snippets', '/mailbox/messages/search-snippets', 400);

    const withAtt = await first('/mailbox/messages', '?has_attachment=true&limit=1');
    const id = withAtt.id as string;
    const detail = await call('GET', '/mailbox/messages/{message_id}', `/mailbox/messages/${id}`, 200);
    await call('GET', '/mailbox/messages/{message_id}', `/mailbox/messages/${id}`, 304, { headers: { 'If-None-Match': detail.headers.get('etag') ?? '' } });
    await call('GET', '/mailbox/messages/{message_id}', '/mailbox/messages/msg_missing', 404);
    const body = await call('GET', '/mailbox/messages/{message_id}/body', `/mailbox/messages/${id}/body?part=both&max_body_chars=40`, 200);
    expect(body.body.data.body.is_truncated).toBe(true);
    await call('GET', '/mailbox/messages/{message_id}/body', `/mailbox/messages/${id}/body?part=both&max_body_chars=40`, 304, { headers: { 'If-None-Match': body.headers.get('etag') ?? '' } });
    await call('GET', '/mailbox/messages/{message_id}/body', `/mailbox/messages/${id}/body?part=all`, 400);
    await call('GET', '/mailbox/messages/{message_id}/body', '/mailbox/messages/msg_missing/body', 404);
    const content = await call('GET', '/mailbox/messages/{message_id}/content', `/mailbox/messages/${id}/content?include_headers=full&include_html=true`, 200);
    await call('GET', '/mailbox/messages/{message_id}/content', `/mailbox/messages/${id}/content?include_headers=full&include_html=true`, 304, { headers: { 'If-None-Match': content.headers.get('etag') ?? '' } });
    await call('GET', '/mailbox/messages/{message_id}/content', `/mailbox/messages/${id}/content?strip_quotes=yes`, 400);
    await call('GET', '/mailbox/messages/{message_id}/content', '/mailbox/messages/msg_missing/content', 404);

    const att = detail.body.data.attachments[0];
    const full = await call('GET', '/mailbox/messages/{message_id}/attachments/{attachment_id}', `/mailbox/messages/${id}/attachments/${att.id}`, 200);
    expect(full.headers.get('content-type')).toBe(att.content_type);
    expect(Number(full.headers.get('content-length'))).toBe(att.size_bytes);
    const part = await call('GET', '/mailbox/messages/{message_id}/attachments/{attachment_id}', `/mailbox/messages/${id}/attachments/${att.id}`, 206, { headers: { Range: 'bytes=0-99' } });
    expect(part.headers.get('content-range')).toBe(`bytes 0-99/${att.size_bytes}`);
    expect(Number(part.headers.get('content-length'))).toBe(100);
    await call('GET', '/mailbox/messages/{message_id}/attachments/{attachment_id}', `/mailbox/messages/${id}/attachments/${att.id}`, 400, { headers: { Range: `bytes=${att.size_bytes + 10}-` } });
    await call('GET', '/mailbox/messages/{message_id}/attachments/{attachment_id}', `/mailbox/messages/${id}/attachments/att_missing`, 404);
    // The short-lived download_url works without an Authorization header.
    const url = new URL(att.download_url as string);
    await call('GET', '/mailbox/messages/{message_id}/attachments/{attachment_id}', url.pathname.replace('/api/v1', '') + url.search, 200, { key: null });
  });

  it('message writes: batch get/update/delete with if_in_state, PATCH/DELETE with If-Match', async () => {
    const page = await call('GET', '/mailbox/messages', '/mailbox/messages?limit=6&folder_id=' + (await inboxId()), 200);
    const ids: string[] = page.body.data.map((m: { id: string }) => m.id);
    const state = (await call('GET', '/mailbox/session', '/mailbox/session', 200)).body.data.states.messages;

    const got = await call('POST', '/mailbox/messages:batch-get', '/mailbox/messages:batch-get', 200, { body: { ids: [ids[0], 'msg_missing'], body_mode: 'clean_json', include_headers: 'full' } });
    expect(got.body.data.not_found).toEqual(['msg_missing']);
    await call('POST', '/mailbox/messages:batch-get', '/mailbox/messages:batch-get', 200, { body: { ids: [ids[1]], body_mode: 'raw', part: 'both' } });
    await call('POST', '/mailbox/messages:batch-get', '/mailbox/messages:batch-get', 400, { body: '{not json' });
    await call('POST', '/mailbox/messages:batch-get', '/mailbox/messages:batch-get', 400, { body: { ids: ['a'], extra: 1 } });
    await call('POST', '/mailbox/messages:batch-get', '/mailbox/messages:batch-get?mailbox_id=mbx_other', 404, { body: { ids: ['a'] } });
    await call('POST', '/mailbox/messages:batch-get', '/mailbox/messages:batch-get', 413, { body: { ids: Array.from({ length: 101 }, (_, i) => `msg_${i}`) } });

    const up = await call('POST', '/mailbox/messages:batch-update', '/mailbox/messages:batch-update', 200, { body: { ids: [ids[0], ids[1], 'msg_missing'], flagged: true, keywords: { Needs_Reply: true }, if_in_state: state } });
    expect(up.body.data.updated).toEqual([ids[0], ids[1]]);
    expect(up.body.data.not_found).toEqual(['msg_missing']);
    expect(up.body.data.states.old_state).toBe(state);
    expect(up.body.data.states.new_state).not.toBe(state);
    await call('POST', '/mailbox/messages:batch-update', '/mailbox/messages:batch-update', 409, { body: { ids: [ids[0]], seen: true, if_in_state: state } });
    await call('POST', '/mailbox/messages:batch-update', '/mailbox/messages:batch-update', 400, { body: { ids: [ids[0]], keywords: { $draft: true } } });
    await call('POST', '/mailbox/messages:batch-update', '/mailbox/messages:batch-update', 400, { body: { ids: [] } });
    await call('POST', '/mailbox/messages:batch-update', '/mailbox/messages:batch-update', 413, { body: { ids: Array.from({ length: 101 }, (_, i) => `msg_${i}`), seen: true } });

    await call('POST', '/mailbox/messages:batch-delete', '/mailbox/messages:batch-delete', 200, { body: { ids: [ids[2]], if_in_state: up.body.data.states.new_state } });
    await call('POST', '/mailbox/messages:batch-delete', '/mailbox/messages:batch-delete', 409, { body: { ids: [ids[3]], if_in_state: state } });
    await call('POST', '/mailbox/messages:batch-delete', '/mailbox/messages:batch-delete', 400, { body: { ids: [ids[3]], permanent: 'yes' } });
    await call('POST', '/mailbox/messages:batch-delete', '/mailbox/messages:batch-delete', 413, { body: { ids: Array.from({ length: 150 }, (_, i) => `msg_${i}`) } });

    const one = await call('GET', '/mailbox/messages/{message_id}', `/mailbox/messages/${ids[3]}`, 200);
    const etag = one.headers.get('etag') ?? '';
    const flagged = !one.body.data.flags.flagged;
    const patched = await call('PATCH', '/mailbox/messages/{message_id}', `/mailbox/messages/${ids[3]}`, 200, { body: { flagged }, headers: { 'If-Match': etag } });
    expect(patched.body.data.flags.flagged).toBe(flagged);
    expect(patched.headers.get('etag')).not.toBe(etag);
    await call('PATCH', '/mailbox/messages/{message_id}', `/mailbox/messages/${ids[3]}`, 409, { body: { seen: false }, headers: { 'If-Match': etag } });
    await call('PATCH', '/mailbox/messages/{message_id}', `/mailbox/messages/${ids[3]}`, 400, { body: { folder_ids: [] } });
    await call('PATCH', '/mailbox/messages/{message_id}', '/mailbox/messages/msg_missing', 404, { body: { seen: true } });
    await call('PATCH', '/mailbox/messages/{message_id}', `/mailbox/messages/${ids[3]}`, 413, { body: { keywords: { x: true }, pad: 'y'.repeat(1_100_000) } });
    await call('DELETE', '/mailbox/messages/{message_id}', `/mailbox/messages/${ids[3]}`, 409, { headers: { 'If-Match': etag } });
    await call('DELETE', '/mailbox/messages/{message_id}', `/mailbox/messages/${ids[3]}?permanent=true`, 200, { headers: { 'If-Match': patched.headers.get('etag') ?? '' } });
    await call('DELETE', '/mailbox/messages/{message_id}', `/mailbox/messages/${ids[3]}`, 404);
  });

  it('sending, uploads and submissions', async () => {
    const upload = await call('POST', '/mailbox/attachments:upload', '/mailbox/attachments:upload?filename=notes.txt', 200, { raw: 'hello attachment', headers: { 'Content-Type': 'text/plain' } });
    await call('POST', '/mailbox/attachments:upload', '/mailbox/attachments:upload', 400, { raw: 'x', headers: { 'Content-Type': 'text/plain' } });
    await call('POST', '/mailbox/attachments:upload', '/mailbox/attachments:upload?filename=big.bin', 413, { raw: new Uint8Array(7_500_001), headers: { 'Content-Type': 'application/octet-stream' } });
    await sim.control.failNext({ count: 1, status: 503, path: '/mailbox/attachments:upload' });
    await call('POST', '/mailbox/attachments:upload', '/mailbox/attachments:upload?filename=a.txt', 503, { raw: 'x' });

    const intent = await call('POST', '/mailbox/attachment-uploads', '/mailbox/attachment-uploads', 200, { body: { filename: 'a.csv', content_type: 'text/csv', size_bytes: 5 } });
    const put = await fetch(intent.body.data.upload_url, { method: 'PUT', headers: { 'Content-Type': 'text/csv' }, body: 'a,b,c' });
    expect(put.status).toBe(200);
    const uploaded = (await put.json()) as { data: { blob_id: string } };
    expect(validateSchema('MailboxAttachmentUploadResult', uploaded.data)).toEqual([]);
    await call('POST', '/mailbox/attachment-uploads', '/mailbox/attachment-uploads', 400, { body: { filename: 'a.csv', size_bytes: 5 } });
    await call('POST', '/mailbox/attachment-uploads', '/mailbox/attachment-uploads', 413, { body: { filename: 'a.csv', content_type: 'text/csv', size_bytes: 8_000_000 } });
    await sim.control.failNext({ count: 1, status: 503, path: '/mailbox/attachment-uploads' });
    await call('POST', '/mailbox/attachment-uploads', '/mailbox/attachment-uploads', 503, { body: { filename: 'a.csv', content_type: 'text/csv', size_bytes: 5 } });

    const mail = {
      to: [{ email: 'customer@example.com', name: 'Customer' }],
      subject: 'Invoice',
      text_body: 'Attached.',
      attachments: [
        { filename: 'notes.txt', content_type: 'text/plain', blob_id: upload.body.data.blob_id },
        { filename: 'a.csv', content_type: 'text/csv', blob_id: uploaded.data.blob_id },
        { filename: 'inline.txt', content_type: 'text/plain', content: Buffer.from('inline').toString('base64') },
      ],
    };
    const sent = await call('POST', '/mailbox/messages/send', '/mailbox/messages/send', 200, { body: mail, headers: { 'Idempotency-Key': 'conf-1' } });
    const replay = await call('POST', '/mailbox/messages/send', '/mailbox/messages/send', 200, { body: mail, headers: { 'Idempotency-Key': 'conf-1' } });
    expect(replay.body.data).toEqual(sent.body.data);
    await call('POST', '/mailbox/messages/send', '/mailbox/messages/send', 409, { body: { ...mail, subject: 'Other' }, headers: { 'Idempotency-Key': 'conf-1' } });
    await call('POST', '/mailbox/messages/send', '/mailbox/messages/send', 400, { body: { to: [], subject: 'x', text_body: 'y' } });
    await call('POST', '/mailbox/messages/send', '/mailbox/messages/send', 422, { body: { to: [{ email: 'a@example.com' }], subject: 'no body' } });
    await call('POST', '/mailbox/messages/send', '/mailbox/messages/send', 413, { body: { ...mail, attachments: [{ filename: 'big.bin', content_type: 'application/octet-stream', content: Buffer.alloc(5_100_000).toString('base64') }] } });
    await sim.control.failNext({ count: 1, status: 503, path: '/mailbox/messages/send' });
    await call('POST', '/mailbox/messages/send', '/mailbox/messages/send', 503, { body: mail });

    const subs = await call('GET', '/mailbox/submissions', `/mailbox/submissions?email_ids=${sent.body.data.message_id}`, 200);
    expect(subs.body.data).toHaveLength(1);
    await call('GET', '/mailbox/submissions', '/mailbox/submissions?sort_by=subject', 400);
    const subId = subs.body.data[0].id as string;
    const sub = await call('GET', '/mailbox/submissions/{submission_id}', `/mailbox/submissions/${subId}`, 200);
    await call('GET', '/mailbox/submissions/{submission_id}', `/mailbox/submissions/${subId}`, 304, { headers: { 'If-None-Match': sub.headers.get('etag') ?? '' } });
    await call('GET', '/mailbox/submissions/{submission_id}', '/mailbox/submissions/sub_missing', 404);
    await call('GET', '/mailbox/submissions/changes', '/mailbox/submissions/changes', 200);
    await call('GET', '/mailbox/submissions/changes', '/mailbox/submissions/changes?since_state=%%%', 400);
  });

  it('threads, folders, quotas, usage and changes', async () => {
    const thr = await first('/mailbox/threads', '?limit=2&is_unread=true');
    await call('GET', '/mailbox/threads', '/mailbox/threads?participant=example&folder_id=' + (await inboxId()), 200);
    await call('GET', '/mailbox/threads', '/mailbox/threads?sort_direction=sideways', 400);
    await call('GET', '/mailbox/threads', '/mailbox/threads', 401, { key: null });
    await call('GET', '/mailbox/threads', '/mailbox/threads', 403, { key: 'smx_root_admin' });
    const t = await call('GET', '/mailbox/threads/{thread_id}', `/mailbox/threads/${thr.id}`, 200);
    await call('GET', '/mailbox/threads/{thread_id}', `/mailbox/threads/${thr.id}`, 304, { headers: { 'If-None-Match': t.headers.get('etag') ?? '' } });
    await call('GET', '/mailbox/threads/{thread_id}', '/mailbox/threads/thr_missing', 404);
    await call('GET', '/mailbox/threads/{thread_id}/messages', `/mailbox/threads/${thr.id}/messages?sort=desc`, 200);
    await call('GET', '/mailbox/threads/{thread_id}/messages', `/mailbox/threads/${thr.id}/messages?limit=500`, 400);
    await call('GET', '/mailbox/threads/{thread_id}/messages', '/mailbox/threads/thr_missing/messages', 404);
    const tc = await call('GET', '/mailbox/threads/{thread_id}/content', `/mailbox/threads/${thr.id}/content?limit=1`, 200);
    expect(tc.body.meta.thread_id).toBe(thr.id);
    await call('GET', '/mailbox/threads/{thread_id}/content', `/mailbox/threads/${thr.id}/content?limit=1`, 304, { headers: { 'If-None-Match': tc.headers.get('etag') ?? '' } });
    await call('GET', '/mailbox/threads/{thread_id}/content', `/mailbox/threads/${thr.id}/content?include_headers=all`, 400);
    await call('GET', '/mailbox/threads/{thread_id}/content', '/mailbox/threads/thr_missing/content', 404);

    await call('GET', '/mailbox/folders', '/mailbox/folders?limit=3', 200);
    const created = await call('POST', '/mailbox/folders', '/mailbox/folders', 201, { body: { name: 'Conformance', parent_id: null } });
    const fid = created.body.data.id as string;
    await call('POST', '/mailbox/folders', '/mailbox/folders', 400, { body: { name: 'X', colour: 'red' } });
    await call('POST', '/mailbox/folders', '/mailbox/folders', 413, { body: { name: 'y'.repeat(1_100_000) } });
    await call('POST', '/mailbox/folders', '/mailbox/folders', 422, { body: { name: 'Conformance' } });
    const f = await call('GET', '/mailbox/folders/{folder_id}', `/mailbox/folders/${fid}`, 200);
    await call('GET', '/mailbox/folders/{folder_id}', `/mailbox/folders/${fid}`, 304, { headers: { 'If-None-Match': f.headers.get('etag') ?? '' } });
    await call('GET', '/mailbox/folders/{folder_id}', '/mailbox/folders/fld_missing', 404);
    const renamed = await call('PATCH', '/mailbox/folders/{folder_id}', `/mailbox/folders/${fid}`, 200, { body: { name: 'Conformance 2' }, headers: { 'If-Match': f.headers.get('etag') ?? '' } });
    await call('PATCH', '/mailbox/folders/{folder_id}', `/mailbox/folders/${fid}`, 409, { body: { name: 'Stale' }, headers: { 'If-Match': f.headers.get('etag') ?? '' } });
    await call('PATCH', '/mailbox/folders/{folder_id}', `/mailbox/folders/${fid}`, 400, { body: { sort_order: 'first' } });
    await call('PATCH', '/mailbox/folders/{folder_id}', '/mailbox/folders/fld_missing', 404, { body: { name: 'x' } });
    await call('PATCH', '/mailbox/folders/{folder_id}', `/mailbox/folders/${fid}`, 413, { body: { name: 'z'.repeat(1_100_000) } });
    await call('DELETE', '/mailbox/folders/{folder_id}', `/mailbox/folders/${await inboxId()}`, 409);
    await call('DELETE', '/mailbox/folders/{folder_id}', `/mailbox/folders/${fid}`, 200, { headers: { 'If-Match': renamed.headers.get('etag') ?? '' } });

    const fc = await call('GET', '/mailbox/folders/changes', '/mailbox/folders/changes', 200);
    await call('GET', '/mailbox/folders/changes', `/mailbox/folders/changes?since_state=${fc.body.data.new_state}&limit=10`, 200);
    await call('GET', '/mailbox/folders/changes', '/mailbox/folders/changes?since_state=garbage', 400);
    const fq = await call('GET', '/mailbox/folders/query-changes', '/mailbox/folders/query-changes', 200);
    await call('GET', '/mailbox/folders/query-changes', `/mailbox/folders/query-changes?since_query_state=${fq.body.data.new_query_state}`, 200);
    await call('GET', '/mailbox/folders/query-changes', '/mailbox/folders/query-changes?since_query_state=qsunknown', 400);

    await call('GET', '/mailbox/quotas', '/mailbox/quotas?sort_by=used&sort_direction=desc', 200);
    await call('GET', '/mailbox/quotas', '/mailbox/quotas?scope=planet', 400);
    await call('GET', '/mailbox/quotas/changes', '/mailbox/quotas/changes', 200);
    await call('GET', '/mailbox/quotas/changes', '/mailbox/quotas/changes?limit=0', 400);
    const usage = await call('GET', '/mailbox/usage', '/mailbox/usage', 200);
    await call('GET', '/mailbox/usage', '/mailbox/usage', 304, { headers: { 'If-None-Match': usage.headers.get('etag') ?? '' } });

    const legacy = await call('GET', '/mailbox/changes', '/mailbox/changes', 200);
    await call('GET', '/mailbox/changes', `/mailbox/changes?since_state=${legacy.body.data.new_state}`, 200);
    await call('GET', '/mailbox/changes', '/mailbox/changes?types=messages,folders,threads,submissions,identities,quotas', 200);
    await call('GET', '/mailbox/changes', '/mailbox/changes?types=messages,emails', 400);
    await call('GET', '/mailbox/changes', '/mailbox/changes?types=messages&messages_since_state=bm9wZQ', 400);
  });

  it('event stream statuses, event data validated against MailboxRealtimeEvent', async () => {
    const s = await openSse(`${sim.url}/mailbox/events?event_types=message.received,message.received.spam&ping=10`, auth());
    expect(s.status).toBe(200);
    covered.add('GET /mailbox/events 200');
    const junk = (await call('GET', '/mailbox/folders', '/mailbox/folders', 200)).body.data.find((f: { role: string | null }) => f.role === 'junk').id;
    await sim.control.deliver({ subject: 'Ham', attachments: [{ filename: 'a.txt', content: 'hi' }] });
    await sim.control.deliver({ subject: 'Spam', folder_id: junk });
    await s.until((ev) => ev.filter((e) => e.event.startsWith('message.received')).length === 2);
    const events = s.events.filter((e) => e.event.startsWith('message.received'));
    expect(events.map((e) => e.event)).toEqual(['message.received', 'message.received.spam']);
    for (const e of events) {
      const data = JSON.parse(e.data);
      expect(e.id).toBeTruthy();
      expect(data.event_type).toBe(e.event);
      // MailboxRealtimeMessage is allOf of two closed schemas (same defect as above).
      const strict = validateSchema('MailboxRealtimeEvent', data);
      for (const p of strict) expect(p).toMatch(/must NOT have additional properties/);
      expect(repaired.schema('MailboxRealtimeEvent', data)).toEqual([]);
    }
    s.close();
    await call('GET', '/mailbox/events', '/mailbox/events?ping=5', 400);
    await call('GET', '/mailbox/events', '/mailbox/events?event_types=message.sent', 400);
    await call('GET', '/mailbox/events', '/mailbox/events', 401, { key: null });
    await call('GET', '/mailbox/events', '/mailbox/events', 403, { key: 'smx_root_admin' });
    await sim.control.failNext({ count: 1, status: 503, path: '/mailbox/events' });
    await call('GET', '/mailbox/events', '/mailbox/events', 503);

    const small = await startSimulator({ messages: 5, maxEventStreams: 1, eventsEnabled: true, validateResponses: true });
    try {
      const held = await openSse(`${small.url}/mailbox/events`, { Authorization: `Bearer ${small.apiKey}` });
      const r = await fetch(`${small.url}/mailbox/events`, { headers: { Authorization: `Bearer ${small.apiKey}` } });
      expect(r.status).toBe(429);
      expect(validateResponse('GET', '/mailbox/events', 429, await r.json())).toEqual([]);
      covered.add('GET /mailbox/events 429');
      held.close();
    } finally {
      await small.close();
    }
    const gated = await startSimulator({ messages: 5, eventsEnabled: false });
    try {
      const session = (await (await fetch(`${gated.url}/mailbox/session`, { headers: { Authorization: `Bearer ${gated.apiKey}` } })).json()) as { data: { gated: { events: boolean } } };
      expect(session.data.gated.events).toBe(true);
      const r = await fetch(`${gated.url}/mailbox/events`, { headers: { Authorization: `Bearer ${gated.apiKey}` } });
      expect(r.status).toBe(503);
    } finally {
      await gated.close();
    }
  });

  it('answers CORS preflights and unknown routes with the error envelope', async () => {
    const pre = await fetch(`${sim.url}/mailbox/messages`, { method: 'OPTIONS', headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,idempotency-key' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Idempotency-Key/);
    const r = await fetch(`${sim.url}/mailbox/nothing-here`, { headers: auth() });
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const ctl = await fetch(`${new URL(sim.url).origin}/__sim/snapshot`);
    expect(ctl.status).toBe(200);
  });

  it('covered every documented path and status code, and emitted nothing off-spec', () => {
    const spec = loadSpec();
    const missing: string[] = [];
    for (const [template, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const status of Object.keys(op.responses ?? {})) {
          const key = `${method.toUpperCase()} ${template} ${status}`;
          if (!covered.has(key)) missing.push(key);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(sim.validationFailures()).toEqual([]);
  });

  async function inboxId(): Promise<string> {
    const r = await fetch(`${sim.url}/mailbox/folders`, { headers: auth() });
    const folders = ((await r.json()) as { data: Array<{ id: string; role: string | null }> }).data;
    return folders.find((f) => f.role === 'inbox')?.id ?? '';
  }
});
