// Bad input never crashes the simulator: seeded random requests (methods, paths,
// parameters, bodies) all get a documented error or success envelope, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { Rng } from '../../src/sim/random.js';
import { matchPathTemplate, validateResponse } from '../helpers/openapi.js';
import { loadSpec, specAvailable } from '../helpers/spec.js';

const SPEC_DEFECTS = new Set(['GET /mailbox/messages/{message_id} 200', 'PATCH /mailbox/messages/{message_id} 200', 'GET /mailbox/threads/{thread_id} 200', 'GET /mailbox/me 200']);

describe.skipIf(!specAvailable)('robustness against bad input', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ messages: 80, seed: 9, validateResponses: true, rateLimitPerMinute: 0 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  for (const seed of [101, 102, 103]) {
    it(`answers 300 random requests with envelopes and no 5xx (seed ${seed})`, { timeout: 120_000 }, async () => {
      const rng = new Rng(seed);
      const spec = loadSpec();
      const snap = await sim.snapshot();
      const ids = {
        message_id: [snap.messages[0]!.id, 'msg_nope', '%E0%A4%A', 'x'.repeat(300)],
        thread_id: [snap.threads[0]!.id, 'thr_nope', '..'],
        folder_id: [snap.folders[0]!.id, 'fld_nope', '%00'],
        submission_id: [snap.submissions[0]?.id ?? 'sub_x', 'sub_nope'],
        attachment_id: [snap.messages.find((m) => m.has_attachments)?.attachments?.[0]?.id ?? 'att_x', 'att_nope'],
      } as Record<string, string[]>;
      const templates = Object.keys(spec.paths);
      const params = ['limit', 'cursor', 'since_state', 'types', 'messages_since_state', 'is_unread', 'after', 'before', 'sort_by', 'sort_direction', 'q', 'folder_id', 'thread_id', 'min_size_bytes', 'ping', 'close_after', 'part', 'max_body_chars', 'include_headers', 'since_query_state', 'up_to_id', 'calculate_total', 'permanent', 'message_ids', 'header_value', 'filename'];
      const values = ['', '0', '-1', '1', '100', '501', 'true', 'maybe', 'desc', 'sideways', 'received_at', 'messages,foo', '2026-01-01T00:00:00Z', 'not-a-date', '%%', 'AAAA', 'bTpub3BlOjA', '☃', 'x'.repeat(2000)];
      const bodies: Array<string | undefined> = [undefined, '', '{', '[]', 'null', '42', '"text"', '{"ids":[]}', '{"ids":"msg_1"}', '{"ids":[1,2]}', '{"ids":["a"],"seen":"yes"}', '{"name":""}', '{"name":123}', '{"to":[{"email":"nope"}],"subject":"x"}', '{"__proto__":{"x":1}}', JSON.stringify({ ids: Array.from({ length: 120 }, (_, i) => `m${i}`) }), JSON.stringify({ a: { b: { c: { d: [1, { e: null }] } } } })];
      for (let i = 0; i < 300; i++) {
        const template = rng.pick(templates);
        const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => rng.pick(ids[name] ?? ['x']));
        const methods = Object.keys(spec.paths[template] ?? {}).map((m) => m.toUpperCase());
        const method = rng.chance(0.8) ? rng.pick(methods) : rng.pick(['GET', 'POST', 'PATCH', 'DELETE', 'PUT']);
        const query = Array.from({ length: rng.int(0, 3) }, () => `${rng.pick(params)}=${encodeURIComponent(rng.pick(values))}`).join('&');
        const body = method === 'GET' || method === 'DELETE' ? undefined : bodies[rng.int(0, bodies.length - 1)];
        const headers: Record<string, string> = { Authorization: `Bearer ${sim.apiKey}` };
        if (body !== undefined) headers['Content-Type'] = 'application/json';
        if (rng.chance(0.1)) headers['If-Match'] = rng.pick(['W/"nope"', '*', 'garbage']);
        if (rng.chance(0.1)) headers.Range = rng.pick(['bytes=0-1', 'bytes=9-1', 'lines=1-2', 'bytes=-0']);
        const url = `${sim.url}${path}${query ? `?${query}` : ''}`;
        const ctrl = new AbortController();
        const r = await fetch(url, { method, headers, signal: ctrl.signal, ...(body !== undefined ? { body } : {}) });
        const type = r.headers.get('content-type') ?? '';
        const where = `seed ${seed} #${i}: ${method} ${url.slice(0, 160)}`;
        expect(r.status, where).toBeLessThan(500);
        if (type.startsWith('text/event-stream')) {
          ctrl.abort();
          continue;
        }
        const text = await r.text();
        if (!type.startsWith('application/json')) continue;
        const parsed = JSON.parse(text);
        const matched = matchPathTemplate(path.split('?')[0] ?? '');
        const known = matched === template && methods.includes(method);
        if (known && !SPEC_DEFECTS.has(`${method} ${template} ${r.status}`)) expect(validateResponse(method, template, r.status, parsed), where).toEqual([]);
        if (r.status >= 400) expect(parsed.ok, where).toBe(false);
      }
      const alive = await fetch(`${sim.url}/mailbox/session`, { headers: { Authorization: `Bearer ${sim.apiKey}` } });
      expect(alive.status).toBe(200);
      expect(sim.validationFailures()).toEqual([]);
    });
  }
});
