// The demo at 100k messages, in Chromium with IndexedDB on disk: the cold start
// completes, the list knows its length at once, a jump deep into the inbox shows
// exactly the server's rows at that position, only a screenful of rows exists in
// the DOM, and new mail arriving while the user is deep in the list shifts it by
// one row. Timings are measured and written to test/artifacts/scale-100k.json for
// the record; nothing here asserts a wall-clock time.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startSimulator } from '../../src/sim/index.js';
import type { DemoServer } from '../../demo/server.js';
import { ROW_HEIGHT } from '../../demo/web/MessageList.js';
import { artifactPath, chromiumAvailable, eventually, openBrowser, startDemo, watchConsole } from './harness.js';

type Sim = Awaited<ReturnType<typeof startSimulator>>;

const MESSAGES = Number(process.env.SCALE_MESSAGES ?? 100_000);
const SEED = 21;
// A cold start of 100k on a loaded 2-core machine: minutes, not seconds.
const BOOTSTRAP_TIMEOUT = 540_000;

describe.skipIf(!chromiumAvailable)(`demo at ${MESSAGES.toLocaleString()} messages in Chromium`, { timeout: BOOTSTRAP_TIMEOUT + 120_000 }, () => {
  let sim: Sim;
  let demo: DemoServer;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', seed: SEED, messages: MESSAGES, control: true });
    demo = await startDemo(sim);
  }, 120_000);

  afterAll(async () => {
    await demo?.close();
    await sim?.close();
  });

  /** The inbox on the server, newest first (the list's order: received_at, then id). */
  async function serverInbox(): Promise<string[]> {
    const snap = await sim.snapshot();
    const inbox = snap.folders.find((f) => f.role === 'inbox');
    if (!inbox) throw new Error('no inbox');
    return snap.messages
      .filter((m) => m.folder_ids.includes(inbox.id))
      .sort((a, b) => Date.parse(b.received_at ?? '') - Date.parse(a.received_at ?? '') || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .map((m) => m.id);
  }

  /** Scrolls the list so `index` is the first visible row; returns ms until that row rendered with `id`. */
  async function jumpTo(page: Page, index: number, id: string): Promise<number> {
    const t0 = Date.now();
    await page.evaluate(
      ([top]) => {
        const el = document.querySelector('[data-testid="message-list"]');
        if (el) el.scrollTop = top as number;
      },
      [index * ROW_HEIGHT],
    );
    await page.locator(`[data-testid="message-row"][data-index="${index}"][data-id="${id}"]`).waitFor({ timeout: 30_000 });
    return Date.now() - t0;
  }

  /** Ids of the rendered rows, by index. */
  const renderedRows = (page: Page) =>
    page.$$eval('[data-testid="message-row"]', (els) => els.map((e) => ({ index: Number(e.getAttribute('data-index')), id: e.getAttribute('data-id') })));

  it('cold start, then deep jumps show the server rows at that position with a screenful of DOM rows, and new mail shifts them', async () => {
    const browser = await openBrowser();
    const timings: Record<string, number | number[]> = { messages: MESSAGES };
    try {
      const page = await browser.context.newPage();
      const errors = watchConsole(page);
      const t0 = Date.now();
      await page.goto(demo.url);
      await page.locator('[data-testid="message-row"]').first().waitFor({ timeout: 60_000 });
      timings.first_rows_ms = Date.now() - t0;
      await page.locator('[data-testid="status-bar"][data-phase="live"]').waitFor({ timeout: BOOTSTRAP_TIMEOUT });
      timings.bootstrap_ms = Date.now() - t0;

      let inbox = await serverInbox();
      const list = page.locator('[data-testid="message-list"]');
      await eventually(async () => Number(await list.getAttribute('data-total')) === inbox.length, 'the list knows the whole inbox', 30_000);

      // Deep jumps, farthest last; each must show exactly the server's row there.
      const targets = [Math.floor(inbox.length / 2), inbox.length - 20, Math.floor(inbox.length * 0.9), 1234];
      const jumps: number[] = [];
      for (const index of targets) {
        jumps.push(await jumpTo(page, index, inbox[index] as string));
        const rows = await renderedRows(page);
        for (const row of rows) expect(row.id, `row ${row.index}`).toBe(inbox[row.index]);
        // Windowed: a screenful plus overscan, whatever the depth.
        expect(rows.length).toBeLessThan(60);
      }
      timings.deep_jump_ms = jumps;

      // A scroll sweep through the deep end: every settled position is right.
      const sweep: number[] = [];
      const deep = Math.floor(inbox.length * 0.9);
      for (let step = 0; step < 10; step++) {
        const index = deep + step * 137;
        sweep.push(await jumpTo(page, index, inbox[index] as string));
      }
      timings.sweep_ms = sweep;

      // New mail while deep in the list: the total grows by one and every row moves down one.
      const before = Number(await list.getAttribute('data-total'));
      const delivered = await sim.control.deliver();
      await eventually(async () => Number(await list.getAttribute('data-total')) === before + 1, 'the new message counted', 30_000);
      inbox = await serverInbox();
      expect(inbox[0]).toBe(delivered.id);
      const at = deep + 9 * 137;
      await page.locator(`[data-testid="message-row"][data-index="${at}"][data-id="${inbox[at]}"]`).waitFor({ timeout: 30_000 });
      for (const row of await renderedRows(page)) expect(row.id, `row ${row.index} after delivery`).toBe(inbox[row.index]);

      // Keyboard at depth: j moves the cursor one row down.
      const cursorRow = page.locator('[data-testid="message-row"].cursor');
      await page.locator(`[data-testid="message-row"][data-index="${at}"]`).click();
      await page.keyboard.press('j');
      await expect.poll(async () => Number(await cursorRow.getAttribute('data-index'))).toBe(at + 1);

      await page.screenshot({ path: artifactPath('scale-100k-deep.png') });
      expect(errors).toEqual([]);
    } finally {
      writeFileSync(artifactPath('scale-100k.json'), `${JSON.stringify(timings, null, 2)}\n`);
      await browser.close();
    }
  });
});
