// Attachment downloads against the simulator: Range resume of a cut transfer from
// the exact byte it stopped at (also across a reload), expired download URLs
// refreshed from message metadata, the client fallback, the cache and its budget.
import { afterEach, describe, expect, it } from 'vitest';
import { withSim } from '../helpers/sim.js';
import { specAvailable } from '../helpers/spec.js';
import { createContentService } from '../../src/content/service.js';
import type { ContentService } from '../../src/content/service.js';
import type { ContentDb } from '../../src/store/contentDb.js';
import type { Attachment } from '../../src/api/index.js';
import { resolveInlineImages } from '../../src/content/inline.js';
import { sanitizeHtml } from '../../src/content/sanitize.js';
import type { SanitizeOptions } from '../../src/content/sanitize.js';
import { JSDOM } from 'jsdom';
import { resolveObjectURL } from 'node:buffer';
import { NetLog, apiFor, contentDb, manualClock } from './helpers.js';

const services: ContentService[] = [];
const dbs: ContentDb[] = [];
afterEach(() => {
  for (const s of services.splice(0)) s.stop();
  for (const d of dbs.splice(0)) d.close();
});
function track(service: ContentService, db: ContentDb): ContentService {
  services.push(service);
  dbs.push(db);
  return service;
}

/** Deterministic pseudo-random bytes (xorshift32). */
function bytesOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A response whose body delivers `limit` bytes, then fails like a dropped connection. */
function truncated(res: Response, limit: number): Response {
  const reader = res.body!.getReader();
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= limit) {
        void reader.cancel();
        controller.error(new TypeError('terminated: other side closed'));
        return;
      }
      const { done, value } = await reader.read();
      if (done) return controller.close();
      const part = value.subarray(0, limit - sent);
      sent += part.byteLength;
      controller.enqueue(part);
    },
  });
  return new Response(stream, { status: res.status, headers: res.headers });
}

async function messageWithAttachment(sim: Awaited<ReturnType<typeof withSim>>, size: number, seed = 7) {
  const bytes = bytesOf(size, seed);
  const { id } = await sim.control.deliver({ subject: 'Report', text: 'see attached', attachments: [{ filename: 'report.bin', content_type: 'application/octet-stream', bytes }] });
  const res = await fetch(`${sim.url}/mailbox/messages/${id}`, { headers: { Authorization: `Bearer ${sim.apiKey}` } });
  const body = (await res.json()) as { data: { attachments: Attachment[] } };
  const att = body.data.attachments[0]!;
  return { messageId: id, attachment: att, bytes };
}

const DOWNLOAD = /\/attachments\/[^/]+$/;

describe.skipIf(!specAvailable)('attachment(): Range resume', () => {
  it('resumes a download cut midway from the byte it stopped at', async () => {
    const sim = await withSim({ messages: 5 });
    const { messageId, attachment, bytes } = await messageWithAttachment(sim, 300_000);
    const net = new NetLog();
    const CUT = 123_457;
    let cut = false;
    net.intercept = (url, init, real) => {
      if (cut || !DOWNLOAD.test(new URL(url).pathname)) return undefined;
      cut = true;
      return real(url, init).then((res) => truncated(res, CUT));
    };
    const { db } = contentDb();
    const service = track(createContentService({ api: apiFor(sim, net), db, fetch: net.fetch, attachmentOutput: 'bytes' }), db);

    const got = await service.attachment(messageId, attachment.id);
    expect(got).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(got as Uint8Array).equals(Buffer.from(bytes))).toBe(true);

    const downloads = net.matching('GET', DOWNLOAD);
    expect(downloads).toHaveLength(2);
    expect(downloads[0]?.headers.range).toBeUndefined();
    expect(downloads[0]?.headers.authorization).toBeUndefined(); // download_url carries its own token
    expect(downloads[1]?.headers.range).toBe(`bytes=${CUT}-`);
    expect(downloads[1]?.status).toBe(206);
    const stats = await service.stats();
    expect(stats.attachmentRequests.resumed).toBe(1);
    expect(stats.attachmentBytes).toBe(300_000);
    expect(await db.partialDownloads.count()).toBe(0);

    // Cached: the second read makes no request.
    net.clear();
    const again = await service.attachment(messageId, attachment.id);
    expect(Buffer.from(again as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    expect(net.requests).toHaveLength(0);
  });

  it('keeps the received bytes across a reload and resumes from them', async () => {
    const sim = await withSim({ messages: 5 });
    const { messageId, attachment, bytes } = await messageWithAttachment(sim, 200_000, 11);
    const net = new NetLog();
    const CUT = 65_536 + 17;
    net.intercept = (url, init, real) => {
      if (!DOWNLOAD.test(new URL(url).pathname)) return undefined;
      // First request is cut; then the network goes away before the resume.
      net.online = false;
      return real(url, init).then((res) => truncated(res, CUT));
    };
    const { db, store } = contentDb();
    const sleeps: number[] = [];
    const first = track(
      createContentService({
        api: apiFor(sim, net, { attempts: 1 }),
        db,
        fetch: net.fetch,
        attachmentRetry: { maxAttempts: 3, sleep: async (ms) => void sleeps.push(ms) },
      }),
      db,
    );
    await expect(first.attachment(messageId, attachment.id)).rejects.toMatchObject({ code: 'fetch_failed' });
    const partial = await db.partialDownloads.get(`${messageId}|${attachment.id}`);
    expect(partial?.bytes.byteLength).toBe(CUT);
    expect(partial?.total).toBe(200_000);
    first.stop();

    // Reload, back online.
    net.online = true;
    net.intercept = undefined;
    net.clear();
    const { db: db2 } = contentDb(store);
    const second = track(createContentService({ api: apiFor(sim, net), db: db2, fetch: net.fetch }), db2);
    const got = await second.attachment(messageId, attachment.id);
    expect(Buffer.from(got as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    const downloads = net.matching('GET', DOWNLOAD);
    expect(downloads).toHaveLength(1);
    expect(downloads[0]?.headers.range).toBe(`bytes=${CUT}-`);
  });

  it('refreshes an expired download_url by re-reading the message metadata', async () => {
    const sim = await withSim({ messages: 5 });
    const { messageId, attachment, bytes } = await messageWithAttachment(sim, 5_000, 3);
    const expired: Attachment = { ...attachment, download_url: attachment.download_url!.replace(/download_token=[^&]+/, 'download_token=dt_expired') };
    const net = new NetLog();
    const { db } = contentDb();
    const service = track(
      createContentService({ api: apiFor(sim, net), db, fetch: net.fetch, lookupAttachment: async () => expired }),
      db,
    );
    const got = await service.attachment(messageId, attachment.id);
    expect(Buffer.from(got as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    const seq = net.requests.map((r) => `${r.method} ${new URL(r.url).pathname.replace(/.*\/mailbox/, '')} ${r.status}`);
    expect(seq[0]).toMatch(/^GET \/messages\/[^/]+\/attachments\/[^/]+ 40[134]$/);
    expect(seq[1]).toMatch(/^GET \/messages\/[^/]+ 200$/);
    expect(seq[2]).toMatch(/^GET \/messages\/[^/]+\/attachments\/[^/]+ 200$/);
    expect((await service.stats()).attachmentRequests.refreshedUrls).toBe(1);
  });

  it('rejects a download whose size does not match and keeps nothing of it', async () => {
    const sim = await withSim({ messages: 5 });
    const { messageId, attachment } = await messageWithAttachment(sim, 5_000, 8);
    const net = new NetLog();
    // A broken proxy: 200 with a short body and no length information.
    net.intercept = (url, init, real) => {
      if (!DOWNLOAD.test(new URL(url).pathname)) return undefined;
      return real(url, init).then(async (res) => new Response((await res.arrayBuffer()).slice(0, 100), { status: 200, headers: { 'content-type': 'application/octet-stream' } }));
    };
    const { db } = contentDb();
    const service = track(createContentService({ api: apiFor(sim, net), db, fetch: net.fetch }), db);
    await expect(service.attachment(messageId, attachment.id)).rejects.toMatchObject({ code: 'invalid_response' });
    expect(await db.attachments.count()).toBe(0);
    expect(await db.partialDownloads.count()).toBe(0);
  });

  it('uses the authenticated endpoint through the client when there is no download_url, and returns a Blob when asked', async () => {
    const sim = await withSim({ messages: 5 });
    const { messageId, attachment, bytes } = await messageWithAttachment(sim, 4_000, 5);
    const { download_url: _omit, ...noUrl } = attachment;
    const net = new NetLog();
    const { db } = contentDb();
    const service = track(
      createContentService({ api: apiFor(sim, net), db, fetch: net.fetch, lookupAttachment: async () => noUrl, attachmentOutput: 'blob' }),
      db,
    );
    // Methods are plain functions (no `this`), so they can be passed around or spread into another object.
    const { attachment: download } = service;
    const blob = await download(messageId, attachment.id);
    expect(blob).toBeInstanceOf(Blob);
    expect((blob as Blob).type).toBe('application/octet-stream');
    expect(Buffer.from(await (blob as Blob).arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
    const [req] = net.matching('GET', DOWNLOAD);
    expect(req?.headers.authorization).toBe(`Bearer ${sim.apiKey}`);
  });

  it('keeps attachments within their own budget, least recently used first', async () => {
    const sim = await withSim({ messages: 5 });
    const files = [];
    for (let i = 0; i < 3; i++) files.push(await messageWithAttachment(sim, 10_000, 100 + i));
    const net = new NetLog();
    const clock = manualClock();
    const { db } = contentDb();
    const service = track(
      createContentService({ api: apiFor(sim, net), db, fetch: net.fetch, attachmentBudgetBytes: 25_000, bodyBudgetBytes: 1, now: clock.now }),
      db,
    );
    for (const f of files) {
      clock.advance(10);
      await service.attachment(f.messageId, f.attachment.id);
    }
    const kept = (await db.attachments.toArray()).map((r) => r.message_id).sort();
    expect(kept).toEqual([files[1]!.messageId, files[2]!.messageId].sort());
    expect((await service.stats()).attachmentBytes).toBe(20_000);
  });

  it('resolves cid: images of an HTML body to object URLs of the downloaded attachments', async () => {
    const sim = await withSim({ messages: 5 });
    const { messageId, attachment, bytes } = await messageWithAttachment(sim, 2_048, 21);
    const net = new NetLog();
    const { db } = contentDb();
    const service = track(createContentService({ api: apiFor(sim, net), db, fetch: net.fetch }), db);
    // The simulator's generated parts have no Content-ID; give this one the id the body refers to.
    const inlinePart: Attachment = { ...attachment, content_id: '<logo@example.com>', content_type: 'image/png' };
    const svgPart: Attachment = { ...attachment, id: 'att_svg', content_id: 'vector@example.com', content_type: 'image/svg+xml' };
    const images = await resolveInlineImages(service, messageId, [inlinePart, svgPart]);
    const dom = new JSDOM('');
    try {
      const { html } = sanitizeHtml('<p><img src="cid:logo@example.com" alt="logo"><img src="cid:vector@example.com"></p>', {
        window: dom.window as unknown as NonNullable<SanitizeOptions['window']>,
        resolveCid: images.resolveCid,
      });
      const doc = new JSDOM(`<body>${html}</body>`).window.document;
      const [logo, vector] = Array.from(doc.querySelectorAll('img'));
      const url = logo?.getAttribute('src') ?? '';
      expect(url).toMatch(/^blob:/);
      expect(vector?.hasAttribute('src')).toBe(false); // SVG is never turned into a same-origin blob
      const blob = resolveObjectURL(url);
      expect(blob?.type).toBe('image/png');
      expect(Buffer.from(await blob!.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
      images.revoke();
      expect(resolveObjectURL(url)).toBeUndefined();
    } finally {
      dom.window.close();
    }
  });
});
