// `sendmux-sync mcp`: the replica served to an agent over MCP (stdio, the official
// SDK). The engine runs while the server runs, so the replica stays live (SSE +
// polling); tools read it and write through the engine's optimistic mutations.
// Every tool declares its input and output schema, results are cut to a budget with
// a cursor for the rest, every result names message and thread ids, and errors say
// how to fix the call. `send_draft` sends only when the server was started with
// `--allow-send`; otherwise the draft stays and the result says so.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { decodeOffset, encodeOffset } from './cursor.js';
import { CliError } from './errors.js';
import { cliErrorOf, openMailbox, type Connection, type OpenMailbox } from './mailbox.js';
import * as ops from './ops.js';

/** Characters of JSON a tool result may carry; the rest is behind `next_cursor`. */
export const RESULT_BUDGET_CHARS = 16_000;

const summary = z.object({
  id: z.string(),
  thread_id: z.string().nullable(),
  folders: z.array(z.string()),
  folder_ids: z.array(z.string()),
  received_at: z.string().nullable(),
  from: z.string(),
  to: z.array(z.string()),
  subject: z.string(),
  preview: z.string(),
  unread: z.boolean(),
  flagged: z.boolean(),
  labels: z.array(z.string()),
  has_attachments: z.boolean(),
  snippet: z.string().optional(),
});
const nextCursor = z.string().nullable().describe('Pass as `cursor` to get the rest; null when there is no more.');
const folderRow = z.object({ id: z.string(), name: z.string(), role: z.string().nullable(), parent_id: z.string().nullable(), total: z.number(), unread: z.number() });
const outcome = z.object({ id: z.string(), status: z.enum(['applied', 'rebased', 'rolled_back']), reason: z.string().optional() });
const mutation = { action: z.string(), ok: z.boolean(), results: z.array(outcome) };
const address = z.object({ email: z.string(), name: z.string().nullable() });
const draft = z.object({
  id: z.string(),
  status: z.enum(['draft', 'queued', 'sent', 'failed']),
  in_reply_to: z.string().nullable(),
  thread_id: z.string().nullable(),
  to: z.array(address),
  cc: z.array(address),
  subject: z.string(),
  text_body: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  message_id: z.string().optional(),
  idempotency_key: z.string().optional(),
  error: z.string().optional(),
});
const cursorIn = z.string().optional().describe('`next_cursor` of the previous call, for the rest');
const limitIn = z.number().int().min(1).max(100).optional();

/** The items of `items` from `offset` that fit the budget (at least one), and the cursor past them. */
function cut<T>(items: readonly T[], offset: number, more: boolean): { page: T[]; next_cursor: string | null } {
  const page: T[] = [];
  let size = 0;
  for (const item of items) {
    const s = JSON.stringify(item).length + 1;
    if (page.length > 0 && size + s > RESULT_BUDGET_CHARS) break;
    page.push(item);
    size += s;
  }
  const rest = page.length < items.length || more;
  return { page, next_cursor: rest ? encodeOffset(offset + page.length) : null };
}

function offsetOf(cursor: string | undefined): number {
  const o = decodeOffset(cursor);
  if (o === undefined) throw new CliError(`cursor "${cursor}" is not one this tool gave: pass the next_cursor of the previous result, or omit it`, 2, 'bad_cursor');
  return o;
}

type ToolResult = { content: Array<{ type: 'text'; text: string }>; structuredContent?: Record<string, unknown>; isError?: boolean };

function ok(data: Record<string, unknown>): ToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(data) }], structuredContent: data };
}

function failure(error: unknown): ToolResult {
  const e = error instanceof CliError ? error : cliErrorOf(error, process.env.SENDMUX_BASE_URL);
  return { content: [{ type: 'text', text: `${e.code}: ${e.message}` }], isError: true };
}

function plainOutcomes(r: ops.MutationResult) {
  return { action: r.action, ok: r.ok, results: r.results.map((o) => ({ id: o.id, status: o.status, ...(o.reason ? { reason: o.reason } : {}) })) };
}

export interface McpOptions {
  /** Let `send_draft` send (default false: drafts stay drafts). */
  allowSend?: boolean;
}

/** Builds the server over an opening mailbox (tools wait for it). */
export function createMcpServer(mailbox: Promise<OpenMailbox>, options: McpOptions = {}): McpServer {
  const server = new McpServer({ name: 'sendmux-sync', version: '0.1.0' });
  const withOps = async <T>(fn: (o: ops.Ops, box: OpenMailbox) => Promise<T>): Promise<T> => {
    const box = await mailbox;
    return fn({ sync: box.sync, actor: 'mcp' }, box);
  };
  const tool = <I extends z.ZodRawShape, O extends z.ZodRawShape>(
    name: string,
    description: string,
    input: I,
    output: O,
    run: (args: z.infer<z.ZodObject<I>>, o: ops.Ops, box: OpenMailbox) => Promise<Record<string, unknown>>,
  ) => {
    server.registerTool(name, { description, inputSchema: input, outputSchema: output }, (async (args: z.infer<z.ZodObject<I>>) => {
      try {
        return ok(await withOps((o, box) => run(args, o, box)));
      } catch (error) {
        return failure(error);
      }
    }) as never);
  };

  tool('list_folders', 'The mailbox folders with ids, roles and counts.', {}, { folders: z.array(folderRow) }, async (_a, o) => ({ folders: await ops.listFolders(o) }));

  tool(
    'search_messages',
    'Search the local replica. Syntax: words, "phrases", from: to: cc: subject: has:attachment is:unread is:read is:flagged in:<folder> before:YYYY-MM-DD after:YYYY-MM-DD, -negation, OR.',
    { query: z.string().min(1), limit: limitIn, cursor: cursorIn },
    { messages: z.array(summary), next_cursor: nextCursor },
    async (a, o) => {
      const offset = offsetOf(a.cursor);
      const limit = a.limit ?? 20;
      const r = await ops.searchMessages(o, a.query, offset + limit + 1);
      const items = r.messages.slice(offset, offset + limit);
      const { page, next_cursor } = cut(items, offset, r.messages.length > offset + limit);
      return { messages: page, next_cursor };
    },
  );

  tool(
    'list_messages',
    'Messages newest first, optionally of one folder (name, role or id) and unread only.',
    { folder: z.string().optional(), unread: z.boolean().optional(), limit: limitIn, cursor: cursorIn },
    { messages: z.array(summary), total: z.number(), next_cursor: nextCursor },
    async (a, o) => {
      const offset = offsetOf(a.cursor);
      const limit = a.limit ?? 20;
      const r = await ops.listMessages(o, { ...(a.folder ? { folder: a.folder } : {}), unread: a.unread === true, limit, offset });
      const { page, next_cursor } = cut(r.messages, offset, offset + r.messages.length < r.total);
      return { messages: page, total: r.total, next_cursor };
    },
  );

  tool(
    'read_message',
    "A message's clean text body (from the API's clean content, cached in the replica).",
    { message_id: z.string().min(1), cursor: cursorIn },
    { message: summary, cc: z.array(z.string()), body: z.string(), body_offset: z.number(), truncated: z.boolean(), next_cursor: nextCursor },
    async (a, o) => {
      const offset = offsetOf(a.cursor);
      const r = await ops.readMessage(o, a.message_id);
      const body = r.body.slice(offset, offset + RESULT_BUDGET_CHARS);
      const end = offset + body.length;
      return { message: r.message, cc: r.cc, body, body_offset: offset, truncated: r.truncated, next_cursor: end < r.body.length ? encodeOffset(end) : null };
    },
  );

  tool(
    'read_thread',
    'The messages of a thread, oldest first. Pass a thread_id, or a message id to get its thread.',
    { thread_id: z.string().min(1), cursor: cursorIn },
    { thread_id: z.string(), subject: z.string(), messages: z.array(summary), next_cursor: nextCursor },
    async (a, o) => {
      const offset = offsetOf(a.cursor);
      const r = await ops.readThread(o, a.thread_id);
      const { page, next_cursor } = cut(r.messages.slice(offset), offset, false);
      return { thread_id: r.thread_id, subject: r.subject, messages: page, next_cursor };
    },
  );

  tool(
    'whats_new',
    'Mail received since a cursor, oldest first. Call without a cursor once to get the cursor of now; keep the returned cursor for the next call.',
    { cursor: z.string().optional(), limit: limitIn },
    { cursor: z.string(), messages: z.array(summary), has_more: z.boolean() },
    async (a, o) => {
      const r = await ops.whatsNew(o, a.cursor, a.limit ?? 20);
      const { page } = cut(r.messages, 0, false);
      if (page.length < r.messages.length) {
        const again = await ops.whatsNew(o, a.cursor, page.length);
        return { cursor: again.cursor, messages: again.messages, has_more: true };
      }
      return { ...r };
    },
  );

  tool(
    'mark',
    'Set read/unread, flagged, and labels (keywords) of messages. Reaches the server in the background; resolves when it has.',
    {
      message_ids: z.array(z.string().min(1)).min(1).max(100),
      read: z.boolean().optional(),
      flagged: z.boolean().optional(),
      add_labels: z.array(z.string().min(1)).optional(),
      remove_labels: z.array(z.string().min(1)).optional(),
    },
    mutation,
    async (a, o) => {
      const keywords: Record<string, boolean> = {};
      for (const k of a.add_labels ?? []) keywords[k.toLowerCase()] = true;
      for (const k of a.remove_labels ?? []) keywords[k.toLowerCase()] = false;
      const r = await ops.mark(o, a.message_ids, {
        ...(a.read !== undefined ? { seen: a.read } : {}),
        ...(a.flagged !== undefined ? { flagged: a.flagged } : {}),
        ...(Object.keys(keywords).length ? { keywords } : {}),
      });
      return plainOutcomes(r);
    },
  );

  tool(
    'move',
    'Move messages to a folder. The Mailbox API can only move to Trash (to: "trash"); other folders are refused.',
    { message_ids: z.array(z.string().min(1)).min(1).max(100), to: z.string().min(1) },
    mutation,
    async (a, o) => plainOutcomes(await ops.move(o, a.message_ids, a.to)),
  );

  tool(
    'draft_reply',
    'Write a reply to a message as a local draft (nothing is sent). Send it with send_draft.',
    { message_id: z.string().min(1), text: z.string(), reply_all: z.boolean().optional() },
    { draft },
    async (a, o) => ({ draft: await ops.draftReply(o, a.message_id, { text: a.text, all: a.reply_all === true }) }),
  );

  tool(
    'send_draft',
    options.allowSend
      ? 'Send a local draft.'
      : 'Send a local draft. This server was started without --allow-send: the draft is kept and nothing is sent.',
    { draft_id: z.string().min(1) },
    { draft_id: z.string(), sent: z.boolean(), status: z.enum(['draft', 'queued', 'sent', 'failed']), message_id: z.string().nullable(), thread_id: z.string().nullable(), note: z.string().optional() },
    async (a, o) => {
      const r = await ops.sendDraft(o, a.draft_id, options.allowSend === true, 'not sent: this MCP server was started without --allow-send; the draft is kept (the user can send it with `sendmux-sync send --draft <id> --yes`)');
      return { draft_id: r.draft.id, sent: r.sent, status: r.status, message_id: r.message_id, thread_id: r.draft.thread_id, ...(r.note ? { note: r.note } : {}) };
    },
  );

  tool(
    'sync_status',
    'The replica and sync state: phase, leader, push, counts.',
    {},
    {
      mailbox_id: z.string(),
      replica: z.string(),
      phase: z.string(),
      leader: z.boolean(),
      push: z.string(),
      last_synced_at: z.string().nullable(),
      pending_mutations: z.number(),
      messages: z.number(),
      unread: z.number(),
      folders: z.number(),
      drafts: z.number(),
    },
    async (_a, o, box) => ({ ...(await ops.status(o, box.mailboxId, box.path)) }),
  );

  server.registerResource('folders', 'mailbox://folders', { description: 'The folders of the mailbox', mimeType: 'application/json' }, async (uri) => {
    const folders = await withOps((o) => ops.listFolders(o));
    return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ folders }) }] };
  });
  server.registerResource(
    'message',
    new ResourceTemplate('mailbox://messages/{message_id}', { list: undefined }),
    { description: 'One message: its summary and clean text body', mimeType: 'application/json' },
    async (uri, variables) => {
      const id = String(variables.message_id ?? '');
      const r = await withOps((o) => ops.readMessage(o, id));
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ ...r, body: r.body.slice(0, RESULT_BUDGET_CHARS) }) }] };
    },
  );
  return server;
}

/** Serves MCP on stdio until stdin closes or a signal arrives; the engine runs meanwhile. */
export async function serveMcp(conn: Connection, options: McpOptions = {}): Promise<void> {
  const mailbox = openMailbox(conn);
  const server = createMcpServer(mailbox, options);
  // A failure to open (bad key, no network) is reported on stderr and by every tool.
  mailbox.catch((error: unknown) => process.stderr.write(`sendmux-sync mcp: ${cliErrorOf(error, conn.baseUrl).message}\n`));
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
  const box = await mailbox.catch(() => undefined);
  await box?.close().catch(() => undefined);
}
