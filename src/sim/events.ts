// The SSE stream /mailbox/events (docs/sync.md "Event stream"): message.received and
// message.received.spam with ids, replay after Last-Event-ID / last_event_id from a
// bounded event log, `sync_required` when the id is older than that log, `ping`
// heartbeats and `close_after`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RealtimeEvent } from './types.js';

export type RealtimeEventType = 'message.received' | 'message.received.spam';
export const REALTIME_EVENT_TYPES: readonly RealtimeEventType[] = ['message.received', 'message.received.spam'];

interface LoggedEvent {
  n: number;
  type: RealtimeEventType;
  data: RealtimeEvent;
}

export interface StreamOptions {
  eventTypes: ReadonlySet<string>;
  pingMs: number;
  closeAfterMs?: number;
  lastEventId?: string;
  /** Extra headers (rate limit, request id, CORS) for the 200 response. */
  headers: Record<string, string>;
}

interface Client {
  res: ServerResponse;
  types: ReadonlySet<string>;
  timers: NodeJS.Timeout[];
}

export class EventHub {
  private log: LoggedEvent[] = [];
  private n = 0;
  /** Highest event number no longer retained; ids before it answer sync_required. */
  private floor = 0;
  private readonly clients = new Set<Client>();
  /** Bumped by expire(): ids of an earlier generation answer sync_required. */
  private generation = 0;

  constructor(
    private readonly instance: string,
    private readonly limit: number,
    private readonly onBytes: (n: number) => void,
    private readonly syncRequiredData: () => RealtimeEvent,
  ) {}

  get openCount(): number {
    return this.clients.size;
  }

  private get epoch(): string {
    return `${this.instance}g${this.generation.toString(36)}`;
  }

  private idOf(n: number): string {
    return `evt_${this.epoch}_${n.toString(36)}`;
  }

  /** Number of the event an id names, or undefined when the id is not one of ours. */
  private parse(id: string): number | undefined {
    const m = /^evt_([0-9a-z]+)_([0-9a-z]+)$/.exec(id);
    if (!m || m[1] !== this.epoch) return undefined;
    const n = parseInt(m[2] ?? '', 36);
    return Number.isSafeInteger(n) && n <= this.n ? n : undefined;
  }

  publish(type: RealtimeEventType, data: RealtimeEvent): void {
    this.n += 1;
    const e: LoggedEvent = { n: this.n, type, data };
    this.log.push(e);
    if (this.log.length > this.limit) {
      const dropped = this.log.shift();
      if (dropped) this.floor = dropped.n;
    }
    for (const c of this.clients) if (c.types.has(type)) this.write(c, e);
  }

  /** Every earlier event id now answers sync_required (control.expireChangeLog). */
  expire(): void {
    this.generation += 1;
    this.floor = this.n;
    this.log = [];
  }

  open(req: IncomingMessage, res: ServerResponse, o: StreamOptions): void {
    res.writeHead(200, {
      ...o.headers,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    const client: Client = { res, types: o.eventTypes, timers: [] };
    this.clients.add(client);
    const cleanup = () => {
      for (const t of client.timers) clearTimeout(t);
      this.clients.delete(client);
    };
    res.on('close', cleanup);
    req.on('close', cleanup);
    this.send(client, ': connected\n\n');
    if (o.lastEventId !== undefined) {
      const after = this.parse(o.lastEventId);
      if (after === undefined || after < this.floor) {
        // The id is older than the retained log (or not ours): the client must resync.
        this.send(client, `id: ${this.idOf(this.n)}\nevent: sync_required\ndata: ${JSON.stringify(this.syncRequiredData())}\n\n`);
      } else {
        for (const e of this.log) if (e.n > after && client.types.has(e.type)) this.write(client, e);
      }
    }
    const ping = setInterval(() => this.send(client, `event: ping\ndata: ${JSON.stringify({ occurred_at: new Date().toISOString() })}\n\n`), o.pingMs);
    client.timers.push(ping);
    if (o.closeAfterMs !== undefined) {
      client.timers.push(
        setTimeout(() => {
          cleanup();
          res.end();
        }, o.closeAfterMs),
      );
    }
  }

  private write(c: Client, e: LoggedEvent): void {
    this.send(c, `id: ${this.idOf(e.n)}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
  }

  private send(c: Client, chunk: string): void {
    if (c.res.writableEnded || c.res.destroyed) return;
    c.res.write(chunk);
    this.onBytes(Buffer.byteLength(chunk));
  }

  /** Destroys every open stream's socket (control.cutEventStreams). */
  cutAll(): void {
    for (const c of [...this.clients]) {
      for (const t of c.timers) clearTimeout(t);
      c.res.socket?.destroy();
      c.res.destroy();
      this.clients.delete(c);
    }
  }

  /** Ends every stream cleanly (server shutdown). */
  closeAll(): void {
    for (const c of [...this.clients]) {
      for (const t of c.timers) clearTimeout(t);
      c.res.end();
      c.res.socket?.destroy();
      this.clients.delete(c);
    }
  }
}
