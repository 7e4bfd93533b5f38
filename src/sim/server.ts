// The simulator's HTTP server (node:http, so socket-level faults are easy): CORS,
// auth, rate limits, injected faults and latency, routing, envelopes, ETags, and the
// optional response self-validation.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ContentService } from './content.js';
import { Faults } from './faults.js';
import { SimError, errorEnvelope } from './errors.js';
import { EventHub } from './events.js';
import { etagMatches, type Handler, type Reply, type SimContext, type SimRequest } from './http.js';
import { Listing } from './listing.js';
import { Params } from './params.js';
import { QueryStates } from './querystate.js';
import { RateLimiter } from './ratelimit.js';
import { accountRoutes } from './routes-account.js';
import { messageRoutes, validDownloadToken } from './routes-messages.js';
import { syncRoutes } from './routes-sync.js';
import { threadFolderRoutes } from './routes-threads-folders.js';
import { MailboxStore } from './store.js';
import type { RealtimeEvent } from './types.js';
import type { ResponseValidator } from './validate.js';

export const API_BASE = '/api/v1';
const MAX_BODY_BYTES = 30 * 1024 * 1024;

const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PATCH, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, Last-Event-ID, Range, Cache-Control',
  'Access-Control-Expose-Headers': 'ETag, X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, Content-Range, Content-Length',
  'Access-Control-Max-Age': '600',
};

interface Route {
  method: string;
  template: string;
  regex: RegExp;
  names: string[];
  handler: Handler;
}

function compile(method: string, template: string, handler: Handler): Route {
  const names: string[] = [];
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([^}]+)\}$/.exec(part);
      if (m) {
        names.push(m[1] ?? '');
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { method, template, regex: new RegExp(`^${source}$`), names, handler };
}

/** Counters for efficiency tests. */
export interface SimStats {
  requests: number;
  byPath: Record<string, number>;
  bytesOut: number;
  sseConnectionsOpen: number;
}

export interface ServerOptions {
  seed: number;
  messages: number;
  apiKey: string;
  rateLimitPerMinute: number;
  changeLogLimit: number;
  eventLogLimit: number;
  pingIntervalMs?: number;
  secondMs: number;
  eventsEnabled: boolean;
  maxEventStreams: number;
  now: () => number;
  validator?: ResponseValidator;
}

/** Serves /__sim/* (only installed when the control surface is enabled). */
export type ControlHandler = (req: IncomingMessage, res: ServerResponse, path: string, body: Buffer) => Promise<void>;

export class SimServer {
  readonly store: MailboxStore;
  readonly ctx: SimContext;
  readonly events: EventHub;
  readonly faults = new Faults();
  readonly limiter: RateLimiter;
  readonly validationFailures: string[] = [];
  private readonly routes: Route[];
  private readonly server: Server;
  private stats: SimStats = { requests: 0, byPath: {}, bytesOut: 0, sseConnectionsOpen: 0 };
  private baseUrl = '';
  private readonly epoch: string;
  private controlHandler: ControlHandler | undefined;

  constructor(private readonly options: ServerOptions) {
    this.epoch = randomBytes(4).readUInt32BE(0).toString(36);
    this.store = new MailboxStore({ seed: options.seed, messages: options.messages, changeLogLimit: options.changeLogLimit, now: options.now, epoch: this.epoch });
    const content = new ContentService(this.store, () => this.baseUrl);
    this.events = new EventHub(this.epoch, options.eventLogLimit, (n) => (this.stats.bytesOut += n), () => this.syncRequiredEvent());
    this.ctx = {
      store: this.store,
      content,
      listing: new Listing(this.store, content),
      messageQueries: new QueryStates(() => this.store.log.epoch),
      folderQueries: new QueryStates(() => this.store.log.epoch, 32),
      events: this.events,
      options: { pingIntervalMs: options.pingIntervalMs, secondMs: options.secondMs, eventsEnabled: options.eventsEnabled, maxEventStreams: options.maxEventStreams, baseUrl: () => this.baseUrl },
      idempotency: new Map(),
      uploads: new Map(),
    };
    this.limiter = new RateLimiter(options.rateLimitPerMinute, options.now);
    this.store.onReceived((m, spam) => {
      const type = spam ? 'message.received.spam' : 'message.received';
      this.events.publish(type, {
        event_type: type,
        team_public_id: this.store.teamPublicId,
        mailbox_id: this.store.mailboxId,
        message_id: m.summary.id,
        message_id_kind: 'provider',
        sender: m.summary.from?.email ?? null,
        recipients: m.summary.to.map((a) => a.email),
        is_spam: spam,
        message: content.realtime(m),
        occurred_at: m.summary.received_at ?? new Date(options.now()).toISOString(),
      });
    });
    const all = [...messageRoutes, ...syncRoutes, ...threadFolderRoutes, ...accountRoutes].map(([m, t, h]) => compile(m, t, h));
    // Literal paths first, so /mailbox/messages/count never matches {message_id}.
    this.routes = [...all.filter((r) => r.names.length === 0), ...all.filter((r) => r.names.length > 0)];
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        console.error('[sendmux-sim] unhandled error', err);
        if (!res.headersSent) this.writeError(res, new SimError(500, 'internal_error', 'Unexpected simulator error.'), 'req_unhandled', {});
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  private syncRequiredEvent(): RealtimeEvent {
    return {
      event_type: 'sync_required',
      team_public_id: this.store.teamPublicId,
      mailbox_id: this.store.mailboxId,
      message_id: null,
      message_id_kind: null,
      sender: null,
      recipients: [],
      is_spam: null,
      message: null as unknown as RealtimeEvent['message'],
      occurred_at: new Date(this.options.now()).toISOString(),
    };
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    this.baseUrl = `http://${shownHost}:${addr.port}${API_BASE}`;
    return this.baseUrl;
  }

  setControlHandler(handler: ControlHandler): void {
    this.controlHandler = handler;
  }

  get url(): string {
    return this.baseUrl;
  }

  async close(): Promise<void> {
    this.faults.clearTimers();
    this.events.closeAll();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  getStats(): SimStats {
    return { ...this.stats, byPath: { ...this.stats.byPath }, sseConnectionsOpen: this.events.openCount };
  }

  resetStats(): void {
    this.stats = { requests: 0, byPath: {}, bytesOut: 0, sseConnectionsOpen: 0 };
  }

  private count(key: string): void {
    this.stats.requests += 1;
    this.stats.byPath[key] = (this.stats.byPath[key] ?? 0) + 1;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim.local');
    const method = (req.method ?? 'GET').toUpperCase();
    for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v);
    if (method === 'OPTIONS') {
      res.writeHead(204, { 'Content-Length': '0' });
      res.end();
      return;
    }
    const body = await readBody(req);
    if (url.pathname.startsWith('/__sim/') || url.pathname === '/__sim') {
      if (this.controlHandler) return this.controlHandler(req, res, url.pathname.slice('/__sim'.length), body ?? Buffer.alloc(0));
      return this.writeError(res, new SimError(404, 'not_found', 'Not found.'), newRequestId(), {});
    }
    if (url.pathname.startsWith('/__uploads/')) return this.handleUpload(req, res, url, body);
    const requestId = newRequestId();
    if (!url.pathname.startsWith(API_BASE + '/')) {
      this.count(`${method} ${url.pathname}`);
      return this.writeError(res, new SimError(404, 'not_found', `No route for ${method} ${url.pathname}.`), requestId, {});
    }
    const path = url.pathname.slice(API_BASE.length);
    let route: Route | undefined;
    let match: RegExpExecArray | null = null;
    for (const r of this.routes) {
      match = r.regex.exec(path);
      if (match) {
        if (r.method === method) {
          route = r;
          break;
        }
        match = null;
      }
    }
    const statsKey = route ? `${method} ${route.template}` : `${method} ${path}`;
    this.count(statsKey);
    const latency = this.faults.latencyMs;
    if (latency > 0) await this.faults.sleep(latency);
    let headers: Record<string, string> = {};
    const template = route?.template;
    try {
      if (body === undefined) throw new SimError(413, 'payload_too_large', 'The request body is too large.');
      if (!route || !match) throw new SimError(404, 'not_found', `No route for ${method} ${path}.`);
      const pathParams: Record<string, string> = {};
      route.names.forEach((n, i) => (pathParams[n] = decodePathParam(n, match?.[i + 1] ?? '')));
      const sreq: SimRequest = { method, path, pathParams, query: new Params(url.searchParams), headers: req.headers, body, raw: req };
      const isDownload = route.template === '/mailbox/messages/{message_id}/attachments/{attachment_id}';
      const auth = req.headers.authorization;
      const key = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
      if (!(isDownload && key === undefined && validDownloadToken(sreq))) {
        if (key === undefined || key === '') throw new SimError(401, 'authentication_required', 'Missing API key: send Authorization: Bearer <key>.');
        // docs/introduction.md: root API keys are rejected on Mailbox API endpoints.
        if (key.startsWith('smx_root_')) throw new SimError(403, 'insufficient_permissions', 'Mailbox API endpoints need a mailbox-scoped key.');
        if (key !== this.options.apiKey) throw new SimError(401, 'authentication_required', 'The API key is invalid, expired or revoked.');
        const decision = this.limiter.take(key);
        headers = decision.headers;
        if (!decision.allowed) throw new SimError(429, 'rate_limit_exceeded', 'Rate limit exceeded; honour Retry-After.', { retryAfterSeconds: decision.retryAfterSeconds ?? 1 });
      }
      const mailboxId = url.searchParams.get('mailbox_id');
      if (mailboxId !== null && mailboxId !== this.store.mailboxId) throw new SimError(404, 'not_found', 'Mailbox not found.', { param: 'mailbox_id' });
      const injected = this.faults.takeFailure(path);
      if (injected) throw injected;
      const reply = await route.handler(sreq, this.ctx);
      const drop = this.faults.takeDrop(path);
      if (drop) {
        // The request was applied; the client never hears back.
        res.socket?.destroy();
        return;
      }
      this.writeReply(req, res, reply, requestId, headers, method, template);
    } catch (err) {
      const e = err instanceof SimError ? err : internal(err);
      this.writeError(res, e, requestId, headers, method, template);
    }
  }

  private writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply, requestId: string, headers: Record<string, string>, method: string, template: string | undefined): void {
    const common: Record<string, string> = { ...headers, 'X-Request-Id': requestId, 'Cache-Control': 'no-store' };
    if (reply.kind === 'stream') {
      reply.start(req, res, common);
      return;
    }
    if (reply.kind === 'bytes') {
      res.writeHead(reply.status, { ...common, ...reply.headers, 'Content-Length': String(reply.bytes.length) });
      res.end(reply.bytes);
      this.stats.bytesOut += reply.bytes.length;
      return;
    }
    if (reply.etag) {
      common['ETag'] = reply.etag;
      const inm = req.headers['if-none-match'];
      if (method === 'GET' && etagMatches(Array.isArray(inm) ? inm.join(',') : inm, reply.etag)) {
        res.writeHead(304, common);
        res.end();
        return;
      }
    }
    const envelope: Record<string, unknown> = { ok: true, data: reply.data };
    if (reply.pagination) envelope.pagination = reply.pagination;
    envelope.meta = { request_id: requestId, ...(reply.meta ?? {}) };
    if (this.options.validator && template) {
      const problems = this.options.validator.response(method, template, reply.status, envelope);
      if (problems.length > 0) {
        const message = `response of ${method} ${template} (${reply.status}) violates the spec: ${problems.slice(0, 5).join('; ')}`;
        this.validationFailures.push(message);
        console.error(`[sendmux-sim] ${message}`);
        this.writeError(res, new SimError(500, 'internal_error', message), requestId, headers);
        return;
      }
    }
    this.writeJson(res, reply.status, envelope, { ...common, ...(reply.headers ?? {}) });
  }

  private writeError(res: ServerResponse, e: SimError, requestId: string, headers: Record<string, string>, method?: string, template?: string): void {
    const envelope = errorEnvelope(e, requestId);
    if (this.options.validator && method && template) {
      const problems = this.options.validator.response(method, template, e.status, envelope);
      if (problems.length > 0) {
        const message = `error response of ${method} ${template} (${e.status}) violates the spec: ${problems.slice(0, 5).join('; ')}`;
        this.validationFailures.push(message);
        console.error(`[sendmux-sim] ${message}`);
      }
    }
    const extra: Record<string, string> = { ...headers, 'X-Request-Id': requestId, 'Cache-Control': 'no-store' };
    if (e.retryAfterSeconds !== undefined) extra['Retry-After'] = String(e.retryAfterSeconds);
    this.writeJson(res, e.status, envelope, extra);
  }

  private writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
    const text = JSON.stringify(body);
    const bytes = Buffer.byteLength(text);
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(bytes) });
    res.end(text);
    this.stats.bytesOut += bytes;
  }

  /** PUT target of attachment-uploads' signed URL (no API key; exact type and length). */
  private handleUpload(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer | undefined): void {
    const requestId = newRequestId();
    this.count(`${req.method ?? 'GET'} /__uploads/{upload_id}`);
    const id = url.pathname.slice('/__uploads/'.length);
    const intent = this.ctx.uploads.get(id);
    if ((req.method ?? '').toUpperCase() !== 'PUT' || !intent) return this.writeError(res, new SimError(404, 'not_found', 'Upload not found.'), requestId, {});
    if (this.options.now() > intent.expiresAt) return this.writeError(res, new SimError(404, 'not_found', 'The upload URL has expired.'), requestId, {});
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (!body || body.length !== intent.size_bytes || type !== intent.content_type) {
      return this.writeError(res, new SimError(400, 'invalid_parameter', 'The upload must use the exact Content-Type and Content-Length of the intent.'), requestId, {});
    }
    this.ctx.uploads.delete(id);
    const blobId = this.store.newId('blob_');
    this.store.blobs.set(blobId, { bytes: new Uint8Array(body), filename: intent.filename, content_type: intent.content_type });
    this.writeJson(res, 200, { ok: true, data: { blob_id: blobId, filename: intent.filename, content_type: intent.content_type, size_bytes: body.length }, meta: { request_id: requestId } }, { 'X-Request-Id': requestId, 'Cache-Control': 'no-store' });
  }
}

function internal(err: unknown): SimError {
  console.error('[sendmux-sim] handler error', err);
  return new SimError(500, 'internal_error', 'Unexpected simulator error.');
}

function decodePathParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new SimError(400, 'invalid_parameter', `${name} is not validly percent-encoded.`, { param: name });
  }
}

function newRequestId(): string {
  return `req_${randomBytes(12).toString('hex')}`;
}

/** Reads the body; undefined when it exceeds MAX_BODY_BYTES (answered with 413). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
