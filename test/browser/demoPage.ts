// Shared steps of the demo's browser tests: one simulator and one Vite server per
// test file, helpers to open the inbox and read the server's state.
import type { Page } from 'playwright-core';
import { startSimulator } from '../../src/sim/index.js';
import type { DemoServer } from '../../demo/server.js';
import { startDemo } from './harness.js';

export type Sim = Awaited<ReturnType<typeof startSimulator>>;
type SimMessage = Awaited<ReturnType<Sim['snapshot']>>['messages'][number];

export interface DemoFixture {
  sim: Sim;
  demo: DemoServer;
  inboxId: string;
  folderId(role: string): Promise<string>;
  selfEmail: string;
  close(): Promise<void>;
}

export async function startFixture(seed: number, messages: number): Promise<DemoFixture> {
  const sim = await startSimulator({ port: 0, host: '127.0.0.1', seed, messages, control: true });
  const demo = await startDemo(sim);
  const snap = await sim.snapshot();
  const inbox = snap.folders.find((f) => f.role === 'inbox');
  const self = snap.identities[0];
  if (!inbox || !self) throw new Error('simulator mailbox has no inbox or identity');
  return {
    sim,
    demo,
    inboxId: inbox.id,
    selfEmail: self.email,
    async folderId(role) {
      const f = (await sim.snapshot()).folders.find((x) => x.role === role);
      if (!f) throw new Error(`no ${role} folder`);
      return f.id;
    },
    async close() {
      await demo.close();
      await sim.close();
    },
  };
}

/** Opens the demo and waits until the inbox lists messages and the engine is live. */
export async function openInbox(page: Page, fx: DemoFixture): Promise<void> {
  await page.goto(fx.demo.url);
  await page.locator('[data-testid="message-row"]').first().waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="status-bar"][data-phase="live"]').waitFor({ timeout: 30_000 });
}

export const rowById = (page: Page, id: string) => page.locator(`[data-testid="message-row"][data-id="${id}"]`);
export const cursorRowId = (page: Page) => page.locator('[data-testid="message-row"].cursor').getAttribute('data-id');

export async function simMessage(fx: DemoFixture, id: string): Promise<SimMessage | undefined> {
  return (await fx.sim.snapshot()).messages.find((m) => m.id === id);
}

/** Newest inbox messages on the server (the list's order). */
export async function newestInbox(fx: DemoFixture, count: number): Promise<SimMessage[]> {
  const snap = await fx.sim.snapshot();
  return snap.messages
    .filter((m) => m.folder_ids.includes(fx.inboxId))
    .sort((a, b) => (b.received_at ?? '').localeCompare(a.received_at ?? '') || b.id.localeCompare(a.id))
    .slice(0, count);
}
