// `sendmux-sync mcp` spawned over stdio by the SDK's own client (issue 16): every
// tool listed and called, every result checked against the tool's declared output
// schema, a mark reaching the server, new mail in whats_new without a restart, and
// send_draft without --allow-send sending nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { BIN, ROOT, cliEnv } from './run.js';

let sim: Simulator;
let dir: string;
let client: Client;
const schemas = new Map<string, object>();

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 11, messages: 250 });
  dir = mkdtempSync(join(tmpdir(), 'sendmux-mcp-'));
  const env = cliEnv(sim.apiKey, sim.url) as Record<string, string>;
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--data-dir', dir], env, cwd: ROOT, stderr: 'pipe' });
  client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(transport);
});
afterAll(async () => {
  await client?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ajv = new Ajv({ strict: false, allErrors: true });

type Summary = { id: string; thread_id: string | null };

async function call(name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const r = (await client.callTool({ name, arguments: args })) as { structuredContent?: Record<string, unknown>; isError?: boolean; content: Array<{ text?: string }> };
  expect(r.isError, `${name}: ${r.content[0]?.text ?? ''}`).toBeFalsy();
  const schema = schemas.get(name);
  expect(schema, name).toBeDefined();
  const validate = ajv.compile(schema as object);
  expect(validate(r.structuredContent), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
  return r.structuredContent as Record<string, unknown>;
}

const EXPECTED = ['list_folders', 'search_messages', 'list_messages', 'read_message', 'read_thread', 'whats_new', 'mark', 'move', 'draft_reply', 'send_draft', 'sync_status'];

describe('sendmux-sync mcp', () => {
  it('lists every tool with input and output schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...EXPECTED].sort());
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema?.type, t.name).toBe('object');
      schemas.set(t.name, t.outputSchema as object);
    }
  });

  it('calls every tool; results fit their schemas and name message and thread ids', async () => {
    const status = await call('sync_status');
    expect(status).toMatchObject({ mailbox_id: sim.mailboxId, messages: 250 });
    const { folders } = (await call('list_folders')) as { folders: Array<{ role: string | null }> };
    expect(folders.some((f) => f.role === 'inbox')).toBe(true);

    const listed = (await call('list_messages', { folder: 'inbox', limit: 5 })) as { messages: Summary[]; next_cursor: string | null };
    expect(listed.messages).toHaveLength(5);
    expect(listed.next_cursor).not.toBeNull();
    const more = (await call('list_messages', { folder: 'inbox', limit: 5, cursor: listed.next_cursor })) as { messages: Summary[] };
    expect(more.messages.map((m) => m.id)).not.toContain(listed.messages[0]?.id);
    const first = listed.messages[0] as Summary;
    expect(first.thread_id).toBeTruthy();

    const found = (await call('search_messages', { query: 'in:inbox', limit: 3 })) as { messages: Summary[] };
    expect(found.messages.length).toBeGreaterThan(0);
    const read = (await call('read_message', { message_id: first.id })) as { message: Summary; body: string };
    expect(read.message.id).toBe(first.id);
    expect(read.body.length).toBeGreaterThan(0);
    const thread = (await call('read_thread', { thread_id: first.thread_id })) as { thread_id: string; messages: Summary[] };
    expect(thread.messages.map((m) => m.id)).toContain(first.id);

    const marked = await call('mark', { message_ids: [first.id], flagged: true, add_labels: ['from_mcp'] });
    expect(marked).toMatchObject({ ok: true, results: [{ id: first.id }] });
    const server = (await sim.snapshot()).messages.find((m) => m.id === first.id);
    expect(server?.flags.flagged).toBe(true);
    expect(server?.keywords).toContain('from_mcp');

    const second = listed.messages[1] as Summary;
    const moved = await call('move', { message_ids: [second.id], to: 'trash' });
    expect(moved).toMatchObject({ ok: true });
    const refused = (await client.callTool({ name: 'move', arguments: { message_ids: [first.id], to: 'archive' } })) as { isError?: boolean; content: Array<{ text: string }> };
    expect(refused.isError).toBe(true);
    expect(refused.content[0]?.text).toMatch(/trash/);

    const sendsBefore = sim.stats().byPath['POST /mailbox/messages/send'] ?? 0;
    const { draft } = (await call('draft_reply', { message_id: first.id, text: 'On it.' })) as { draft: { id: string; in_reply_to: string; thread_id: string } };
    expect(draft).toMatchObject({ in_reply_to: first.id, thread_id: first.thread_id });
    const held = await call('send_draft', { draft_id: draft.id });
    expect(held).toMatchObject({ draft_id: draft.id, sent: false, status: 'draft' });
    expect(String(held.note)).toMatch(/--allow-send/);
    expect(sim.stats().byPath['POST /mailbox/messages/send'] ?? 0).toBe(sendsBefore);

    const bad = (await client.callTool({ name: 'read_message', arguments: { message_id: 'msg_nope' } })) as { isError?: boolean; content: Array<{ text: string }> };
    expect(bad.isError).toBe(true);
    expect(bad.content[0]?.text).toMatch(/list, search or whats_new/);
  });

  it('mail delivered while the server runs shows in whats_new', async () => {
    const start = (await call('whats_new')) as { cursor: string; messages: Summary[] };
    expect(start.messages).toEqual([]);
    const { id } = await sim.control.deliver({ subject: 'Live to the agent', text: 'hi' });
    let got: Summary[] = [];
    let cursor = start.cursor;
    for (let i = 0; i < 50 && got.length === 0; i++) {
      const r = (await call('whats_new', { cursor })) as { cursor: string; messages: Summary[] };
      got = r.messages;
      cursor = r.cursor;
      if (got.length === 0) await new Promise((res) => setTimeout(res, 200));
    }
    expect(got.map((m) => m.id)).toEqual([id]);
    const after = (await call('whats_new', { cursor })) as { messages: Summary[] };
    expect(after.messages).toEqual([]);
  });

  it('serves the folders resource and a message resource per id', async () => {
    const r = await client.readResource({ uri: 'mailbox://folders' });
    const text = (r.contents[0] as { text: string }).text;
    expect((JSON.parse(text) as { folders: unknown[] }).folders.length).toBeGreaterThan(0);
    const { messages } = (await call('list_messages', { folder: 'inbox', limit: 1 })) as { messages: Summary[] };
    const id = (messages[0] as Summary).id;
    const m = await client.readResource({ uri: `mailbox://messages/${id}` });
    const body = JSON.parse((m.contents[0] as { text: string }).text) as { message: Summary; body: string };
    expect(body.message).toMatchObject({ id, thread_id: (messages[0] as Summary).thread_id });
    expect(body.body.length).toBeGreaterThan(0);
    await expect(client.readResource({ uri: 'mailbox://messages/msg_nope' })).rejects.toThrow(/msg_nope/);
  });
});
