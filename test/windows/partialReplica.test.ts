// Partial replica mode (issue 7): the newest N of each folder, kept converged.
import { testStore } from '../helpers/storage.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailboxSync, type MailboxSync } from '../../src/index.js';
import { createMailboxApi } from '../../src/api/index.js';
import { startSimulator, type Simulator } from '../../src/sim/index.js';
import { eventually, rng } from '../engine/helpers.js';

let sim: Simulator | undefined;
let sync: MailboxSync | undefined;
afterEach(async () => {
  await sync?.stop();
  await sim?.close();
});

const PER_FOLDER = 200;

/** Every folder's newest N on the server, and the union of them. */
async function serverNewest(s: Simulator): Promise<{ perFolder: Map<string, string[]>; union: Set<string> }> {
  const api = createMailboxApi({ apiKey: s.apiKey, baseUrl: s.url, rateLimit: false });
  const perFolder = new Map<string, string[]>();
  const union = new Set<string>();
  for (const f of (await s.snapshot()).folders) {
    const ids: string[] = [];
    for await (const page of api.pages('listMessages', { folder_id: f.id, limit: 100, sort_by: 'received_at', sort_direction: 'desc' })) {
      ids.push(...page.data.map((m) => m.id));
      if (ids.length >= PER_FOLDER) break;
    }
    perFolder.set(f.id, ids.slice(0, PER_FOLDER));
    ids.slice(0, PER_FOLDER).forEach((id) => union.add(id));
  }
  return { perFolder, union };
}

describe('partial replica (windowed)', () => {
  it('holds the newest N of each folder of a 20k-message mailbox and stays converged for what it holds', async () => {
    const seed = Number(process.env.PARTIAL_SEED ?? 77);
    const r = rng(seed);
    sim = await startSimulator({ port: 0, seed: 5, messages: 20_000, rateLimitPerMinute: 0 });
    const requests: string[] = [];
    const counting: typeof fetch = (input, init) => {
      requests.push(String(input));
      return fetch(input, init);
    };
    sync = createMailboxSync({
      apiKey: sim.apiKey, baseUrl: sim.url, ...testStore().options, dbName: 'partial', leader: 'always',
      events: false, fetch: counting, replica: { mode: 'windowed', perFolder: PER_FOLDER }, content: { prefetch: false },
    });
    await sync.start();

    const check = async (label: string) => {
      const expected = await serverNewest(sim!);
      const folders = expected.perFolder.size;
      let local: Awaited<ReturnType<MailboxSync['snapshot']>> | undefined;
      await eventually(async () => {
        local = await sync!.snapshot();
        const held = new Set(local.messages.map((m) => m.id));
        return [...expected.union].every((id) => held.has(id)) && held.size === expected.union.size;
      }, 30_000, `${label}: replica holds exactly every folder's newest ${PER_FOLDER}`);
      const server = await sim!.snapshot();
      expect(local!.messages.length, label).toBeLessThanOrEqual(folders * PER_FOLDER);
      // Converged for what it holds: every held message equals the server's, field for field.
      const byId = new Map(server.messages.map((m) => [m.id, m]));
      for (const m of local!.messages) expect(m, `${label} seed ${seed}: ${m.id}`).toEqual(byId.get(m.id));
      // The small types are replicated whole.
      expect(local!.folders, label).toEqual(server.folders);
      expect(local!.identities, label).toEqual(server.identities);
    };

    await check('after bootstrap');
    // Far fewer list calls than a full bootstrap (20k / 100 per page = 200 pages).
    expect(requests.filter((u) => u.includes('/mailbox/messages?')).length).toBeLessThan(100);

    const folders = (await sim.snapshot()).folders;
    for (let step = 0; step < 3; step++) {
      const held = (await sync.snapshot()).messages.map((m) => m.id);
      const pick = () => held[Math.floor(r() * held.length)]!;
      await sim.control.setFlags([pick(), pick()], { seen: r() < 0.5, flagged: r() < 0.5 });
      await sim.control.deliver({ subject: `partial ${step}`, folder_id: folders[Math.floor(r() * folders.length)]!.id });
      await sim.control.trash([pick()]);
      await sim.control.destroy([pick()]);
      await sync.syncNow();
      await check(`step ${step}`);
    }
  }, 240_000);
});
