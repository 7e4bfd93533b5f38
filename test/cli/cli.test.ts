// `sendmux-sync` as a real process against the simulator (issue 16): every command
// with --json, a second run on the persisted replica, and one-line errors with
// their exit codes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { BIN, ROOT, cliEnv, run } from './run.js';

let sim: Simulator;
let dir: string;
let env: NodeJS.ProcessEnv;
/** A message with an HTML part, and one with text only (for read --html). */
let rich: string;
let plainOnly: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, seed: 7, messages: 300 });
  ({ id: rich } = await sim.control.deliver({ subject: 'Rich', text: 'plain', html: '<p>Hello <b>bold</b></p><script>alert(1)</script>' }));
  ({ id: plainOnly } = await sim.control.deliver({ subject: 'Plain', text: 'only text here' }));
  dir = mkdtempSync(join(tmpdir(), 'sendmux-cli-'));
  env = cliEnv(sim.apiKey, sim.url);
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function json(args: string[]): Promise<Record<string, unknown>> {
  const r = await run([...args, '--json', '--data-dir', dir], env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

type Summary = { id: string; thread_id: string; unread: boolean; labels: string[]; folders: string[] };

// Every command is a real process started through tsx (a few seconds each on a busy machine).
describe('sendmux-sync CLI', { timeout: 180_000 }, () => {
  it('first sync downloads the mailbox, a second run reuses the replica with far fewer requests', async () => {
    sim.resetStats();
    const first = await json(['sync', '--once']);
    expect(first).toMatchObject({ mailbox_id: sim.mailboxId, messages: 302 });
    const firstRequests = sim.stats().requests;
    sim.resetStats();
    const again = await json(['status']);
    expect(again).toMatchObject({ messages: 302, mailbox_id: sim.mailboxId });
    const secondRequests = sim.stats().requests;
    expect(secondRequests).toBeLessThan(firstRequests / 2);
    expect(sim.stats().byPath['GET /mailbox/messages'] ?? 0).toBe(0);
  });

  it('folders, list, search, read, thread, changes', async () => {
    const { folders } = (await json(['folders'])) as { folders: Array<{ id: string; role: string | null; total: number }> };
    const inbox = folders.find((f) => f.role === 'inbox');
    expect(inbox).toBeDefined();
    const list = (await json(['list', '--folder', 'inbox', '--unread', '--limit', '5'])) as { messages: Summary[]; total: number };
    expect(list.messages.length).toBeGreaterThan(0);
    expect(list.messages.length).toBeLessThanOrEqual(5);
    expect(list.messages.every((m) => m.unread && m.folders.includes('Inbox') && m.thread_id)).toBe(true);
    const search = (await json(['search', 'is:unread in:inbox', '--limit', '3'])) as { messages: Summary[] };
    expect(search.messages.length).toBeGreaterThan(0);
    expect(search.messages.every((m) => m.unread)).toBe(true);
    const first = list.messages[0] as Summary;
    const read = (await json(['read', first.id])) as { message: Summary; body: string; format: string };
    expect(read.message.id).toBe(first.id);
    expect(read.format).toBe('text');
    expect(read.body.length).toBeGreaterThan(0);
    // --html: the API's HTML, sanitized; a message with only text reads as text.
    const html = (await json(['read', rich, '--html'])) as { body: string; format: string };
    expect(html.format).toBe('html');
    expect(html.body).toContain('<b>bold</b>');
    expect(html.body).not.toContain('script');
    const plain = (await json(['read', plainOnly, '--html'])) as { body: string; format: string };
    expect(plain.format).toBe('text');
    expect(plain.body).toContain('only text here');
    const thread = (await json(['thread', first.id])) as { thread_id: string; messages: Summary[] };
    expect(thread.thread_id).toBe(first.thread_id);
    expect(thread.messages.map((m) => m.id)).toContain(first.id);

    const start = (await json(['changes'])) as { cursor: string; messages: Summary[] };
    expect(start.messages).toEqual([]);
    const { id } = await sim.control.deliver({ subject: 'CLI news', text: 'hello' });
    const news = (await json(['changes', '--since', start.cursor])) as { cursor: string; messages: Summary[] };
    expect(news.messages.map((m) => m.id)).toEqual([id]);
    const none = (await json(['changes', '--since', news.cursor])) as { messages: Summary[] };
    expect(none.messages).toEqual([]);
  });

  it('mark, trash, move and archive; the audit log records them', async () => {
    const { messages } = (await json(['list', '--folder', 'inbox', '--limit', '3'])) as { messages: Summary[] };
    const [a, b] = messages as [Summary, Summary];
    const marked = await json(['mark', a.id, '--read', '--label', 'triaged']);
    expect(marked).toMatchObject({ action: 'mark', ok: true, results: [{ id: a.id }] });
    const server = (await sim.snapshot()).messages.find((m) => m.id === a.id);
    expect(server?.flags.seen).toBe(true);
    expect(server?.keywords).toContain('triaged');

    const moved = await json(['move', b.id, '--to', 'trash']);
    expect(moved).toMatchObject({ action: 'trash', ok: true });
    const trash = (await sim.snapshot()).folders.find((f) => f.role === 'trash');
    expect((await sim.snapshot()).messages.find((m) => m.id === b.id)?.folder_ids).toEqual([trash?.id]);

    const refused = await run(['move', a.id, '--to', 'archive', '--json', '--data-dir', dir], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no folder move/);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: { code: 'unsupported' } });
    const archive = await run(['archive', a.id, '--data-dir', dir], env);
    expect(archive.code).toBe(1);
    expect(archive.stderr.trim().split('\n')).toHaveLength(1);

    const { entries } = (await json(['log'])) as { entries: Array<{ action: string; ids: string[]; outcome: string; actor: string }> };
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['mark', 'trash']));
    expect(entries.find((e) => e.action === 'mark')).toMatchObject({ ids: [a.id], outcome: 'ok', actor: 'cli' });
  });

  it('sync stays live: with --json it streams one NDJSON event per new message, and Ctrl-C ends it with exit 0', async () => {
    const proc = spawn(process.execPath, [BIN, 'sync', '--json', '--data-dir', dir], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => proc.once('close', resolve));
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const until = async (check: () => boolean, what: string) => {
      const deadline = Date.now() + 60_000;
      while (!check()) {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`${what}; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until(() => /live: \d+ messages/.test(stderr), 'never went live');
      const { id } = await sim.control.deliver({ subject: 'Streamed to the agent' });
      await until(() => stdout.includes(id), `the new message was not streamed (stdout: ${stdout}; ${JSON.stringify(sim.stats().byPath)})`);
      const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; message: Summary; cursor: string });
      expect(events.map((e) => e.message.id)).toEqual([id]);
      expect(events[0]).toMatchObject({ event: 'message', message: { id, thread_id: expect.any(String) }, cursor: expect.any(String) });
    } finally {
      proc.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('reply and send make a draft; only --yes sends', async () => {
    const { messages } = (await json(['list', '--folder', 'inbox', '--limit', '1'])) as { messages: Summary[] };
    const before = sim.stats().byPath['POST /mailbox/messages/send'] ?? 0;
    const drafted = (await json(['reply', (messages[0] as Summary).id, '--text', 'Thanks!'])) as { sent: boolean; draft: { id: string; status: string; in_reply_to: string } };
    expect(drafted).toMatchObject({ sent: false, draft: { status: 'draft', in_reply_to: (messages[0] as Summary).id } });
    expect(sim.stats().byPath['POST /mailbox/messages/send'] ?? 0).toBe(before);
    const sent = (await json(['send', '--draft', drafted.draft.id, '--yes'])) as { sent: boolean; message_id: string };
    expect(sent.sent).toBe(true);
    expect(sim.stats().byPath['POST /mailbox/messages/send'] ?? 0).toBe(before + 1);
    const fresh = (await json(['send', '--to', 'ada@example.com', '--subject', 'Hi', '--text', 'Hello'])) as { sent: boolean };
    expect(fresh.sent).toBe(false);
    const { drafts } = (await json(['drafts'])) as { drafts: Array<{ id: string; status: string }> };
    expect(drafts.find((d) => d.id === drafted.draft.id)?.status).toBe('sent');
    expect(drafts.filter((d) => d.status === 'draft')).toHaveLength(1);
  });

  it('--help on every command', async () => {
    const commands = ['sync', 'status', 'folders', 'list', 'search', 'read', 'thread', 'mark', 'move', 'archive', 'trash', 'reply', 'send', 'drafts', 'changes', 'log', 'mcp'];
    // Two at a time: each is a process start.
    for (let i = 0; i < commands.length; i += 2) {
      await Promise.all(
        commands.slice(i, i + 2).map(async (c) => {
          const r = await run([c, '--help'], {});
          expect(r.code, c).toBe(0);
          expect(r.stdout).toMatch(new RegExp(`usage: sendmux-sync ${c}`));
        }),
      );
    }
  }, 120_000);

  it('a bad key, an unreachable server and a bad argument: one line, no stack, their exit codes', async () => {
    const badKey = await run(['status', '--data-dir', dir], { ...env, SENDMUX_API_KEY: 'smx_mbx_wrong' });
    const down = await run(['status', '--data-dir', dir], { ...env, SENDMUX_BASE_URL: 'http://127.0.0.1:9/api/v1' });
    const badArg = await run(['list', '--limit', 'lots', '--data-dir', dir], env);
    const unknown = await run(['list', '--bogus', '--data-dir', dir], env);
    expect([badKey.code, down.code, badArg.code, unknown.code]).toEqual([3, 4, 2, 2]);
    for (const r of [badKey, down, badArg, unknown]) {
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr).not.toContain('smx_mbx_wrong');
    }
  });
});
