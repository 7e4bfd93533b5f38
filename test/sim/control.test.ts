// The control surface over HTTP (/__sim/*, only with control: true) and the CLI.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { api, withSim, type Envelope } from '../helpers/sim.js';
import { openSse } from './sse.js';

describe('control over HTTP', () => {
  it('is absent (404) unless enabled', async () => {
    const sim = await withSim({ messages: 5 });
    const r = await fetch(`${new URL(sim.url).origin}/__sim/snapshot`);
    expect(r.status).toBe(404);
  });

  it('exposes every control call as POST /__sim/<name> and the snapshot as GET', async () => {
    const sim = await withSim({ messages: 20, control: true });
    const origin = new URL(sim.url).origin;
    const post = async (name: string, body: unknown) => {
      const r = await fetch(`${origin}/__sim/${name}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const delivered = await post('deliver', { subject: 'over http', from: { email: 'x@example.com', name: 'X' }, text: 'hi' });
    expect(delivered.status).toBe(200);
    const id = delivered.body.id as string;
    expect((await post('setFlags', { ids: [id], patch: { seen: true, keywords: { urgent: true } } })).status).toBe(200);
    let snap = await sim.snapshot();
    expect(snap.messages.find((m) => m.id === id)).toMatchObject({ flags: { seen: true }, keywords: ['$seen', 'urgent'] });
    const folder = await post('createFolder', { name: 'HTTP folder' });
    expect((await post('renameFolder', { id: folder.body.id, name: 'Renamed' })).status).toBe(200);
    expect((await sim.snapshot()).folders.find((f) => f.id === folder.body.id)?.name).toBe('Renamed');
    expect((await post('deleteFolder', { id: folder.body.id })).status).toBe(200);
    expect((await post('trash', { ids: [id] })).status).toBe(200);
    const trash = (await sim.snapshot()).folders.find((f) => f.role === 'trash')!.id;
    expect((await sim.snapshot()).messages.find((m) => m.id === id)?.folder_ids).toEqual([trash]);
    expect((await post('destroy', { ids: [id] })).status).toBe(200);
    expect((await post('updateIdentity', { patch: { name: 'Other device' } })).status).toBe(200);
    snap = await sim.snapshot();
    expect(snap.messages.some((m) => m.id === id)).toBe(false);
    expect(snap.identities.some((i) => i.name === 'Other device')).toBe(true);

    expect((await post('failNext', { count: 1, status: 500, path: '/mailbox/folders' })).status).toBe(200);
    expect((await api(sim, 'GET', '/mailbox/folders')).status).toBe(500);
    expect((await api(sim, 'GET', '/mailbox/folders')).status).toBe(200);
    expect((await post('failNext', { count: 2, status: 503 })).status).toBe(200);
    expect((await post('failNext', { count: 0, status: 503 })).status).toBe(200);
    expect((await api(sim, 'GET', '/mailbox/folders')).status).toBe(200);
    expect((await post('setLatency', { ms: 1 })).status).toBe(200);
    expect((await post('setLatency', { ms: 0 })).status).toBe(200);

    const s0 = (await api<Envelope<{ states: Record<string, string> }>>(sim, 'GET', '/mailbox/session')).body.data.states.messages;
    expect((await post('expireChangeLog', {})).status).toBe(200);
    const ch = await api<Envelope<{ sync_required?: boolean }>>(sim, 'GET', `/mailbox/changes?since_state=${s0}`);
    expect(ch.body.data.sync_required).toBe(true);

    const stream = await openSse(`${sim.url}/mailbox/events`, { Authorization: `Bearer ${sim.apiKey}` });
    expect((await post('cutEventStreams', {})).status).toBe(200);
    await stream.ended;

    expect((await post('dropNextResponses', { count: 1, path: '/mailbox/folders' })).status).toBe(200);
    await expect(api(sim, 'GET', '/mailbox/folders')).rejects.toThrow();

    const snapshot = await fetch(`${origin}/__sim/snapshot`);
    expect(await snapshot.json()).toEqual(await sim.snapshot());
    expect((await post('noSuchCall', {})).status).toBe(404);
    expect((await post('setFlags', { ids: 'nope' })).status).toBe(400);
    const bad = await fetch(`${origin}/__sim/deliver`, { method: 'POST', body: '{oops' });
    expect(bad.status).toBe(400);
  });

  it('control.failNext can carry Retry-After and match a path template', async () => {
    const sim = await withSim({ messages: 10 });
    const id = (await sim.snapshot()).messages[0]!.id;
    await sim.control.failNext({ count: 1, status: 429, path: '/mailbox/messages/{message_id}', retryAfterSeconds: 7 });
    const r = await api(sim, 'GET', `/mailbox/messages/${id}`);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('7');
    expect(r.body.error).toMatchObject({ code: 'rate_limit_exceeded', retryable: true });
    expect((await api(sim, 'GET', `/mailbox/messages/${id}`)).status).toBe(200);
  });
});

describe('CLI', () => {
  it('starts on the given port, prints the URL and key, and delivers on a schedule', { timeout: 60_000 }, async () => {
    const bin = fileURLToPath(new URL('../../bin/sendmux-sim.js', import.meta.url));
    const child = spawn(process.execPath, [bin, '--port', '0', '--messages', '30', '--seed', '2', '--control', '--api-key', 'smx_mbx_cli', '--deliver-every', '0.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await waitFor(() => /delivered msg_/.test(out), 30_000, () => out);
      const url = /url:\s+(\S+)/.exec(out)?.[1] ?? '';
      expect(out).toContain('smx_mbx_cli');
      const r = await fetch(`${url}/mailbox/session`, { headers: { Authorization: 'Bearer smx_mbx_cli' } });
      expect(r.status).toBe(200);
      const snap = await fetch(`${new URL(url).origin}/__sim/snapshot`);
      const body = (await snap.json()) as { messages: unknown[] };
      expect(body.messages.length).toBeGreaterThan(30);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});

async function waitFor(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting; output so far:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
