// Issue 18, undo windows in the demo: a move to Trash and a send wait 5 s in the
// engine's outbox (`remove(ids, { delayMs, signal })`, `send(draft, { delayMs })`),
// and Undo (the toast's button or `z`) cancels them before the server sees them.
// Every effect is checked on the server: the record's folder_ids, the messages and
// submissions in sim.snapshot(), and the simulator's request counters.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, eventually, openBrowser, watchConsole } from './harness.js';
import { cursorRowId, openInbox, rowById, simMessage, startFixture, type DemoFixture } from './demoPage.js';

/** The demo's undo window (demo/web/App.tsx UNDO_WINDOW_MS). */
const WINDOW_MS = 5000;

describe.skipIf(!chromiumAvailable)('demo undo windows (trash, send) in Chromium', { timeout: 90_000 }, () => {
  let fx: DemoFixture;
  beforeAll(async () => {
    fx = await startFixture(12, 300);
  });
  afterAll(async () => {
    await fx?.close();
  });

  const requests = (path: string) => fx.sim.stats().byPath[path] ?? 0;
  const deletes = () => requests('POST /mailbox/messages:batch-delete');
  const sends = () => requests('POST /mailbox/messages/send');
  const toastWith = (page: Page, text: string | RegExp) => page.locator('[data-testid="toast"]', { hasText: text });

  /** Delivers a message and puts the keyboard cursor on it (the newest row). */
  async function deliverUnderCursor(page: Page, subject: string): Promise<string> {
    const { id } = await fx.sim.control.deliver({ subject, from: { email: 'ada@analytical.example', name: 'Ada' }, text: 'hello' });
    await rowById(page, id).waitFor({ timeout: 15_000 });
    if ((await page.locator('[data-testid="message-row"].cursor').count()) === 0) await page.keyboard.press('j');
    await cursorTo(page, id);
    return id;
  }

  /** Moves the cursor up to `id`, a row near the top (after an undo the cursor stays on the row that replaced it). */
  async function cursorTo(page: Page, id: string): Promise<void> {
    for (let i = 0; i < 5 && (await cursorRowId(page)) !== id; i++) await page.keyboard.press('k');
    await expect.poll(() => cursorRowId(page)).toBe(id);
  }

  it('# then Undo on the toast, # then z, and the reading pane\'s Trash then Undo, within the window: the message is back in the inbox and no batch-delete reached the server', async () => {
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      const errors = watchConsole(page);
      await openInbox(page, fx);
      const id = await deliverUnderCursor(page, 'Trash me, then change your mind');
      const deletesBefore = deletes();

      // # moves it out of the list at once; the toast offers Undo.
      await page.keyboard.press('#');
      await rowById(page, id).waitFor({ state: 'detached' });
      const trashed = toastWith(page, 'Moved to Trash');
      await trashed.locator('[data-testid="toast-action"]', { hasText: 'Undo' }).click();
      await rowById(page, id).waitFor();
      await toastWith(page, /^Undone/).waitFor();

      // Again, undone with z this time.
      await cursorTo(page, id);
      await page.keyboard.press('#');
      await rowById(page, id).waitFor({ state: 'detached' });
      await toastWith(page, 'Moved to Trash').waitFor();
      await page.keyboard.press('z');
      await rowById(page, id).waitFor();

      // And from the reading pane's Trash button.
      await cursorTo(page, id);
      await page.keyboard.press('Enter');
      await page.locator(`[data-testid="reading-pane"][data-id="${id}"]`).waitFor();
      await page.click('[data-testid="reading-trash"]');
      await rowById(page, id).waitFor({ state: 'detached' });
      await toastWith(page, 'Moved to Trash').locator('[data-testid="toast-action"]', { hasText: 'Undo' }).click();
      await rowById(page, id).waitFor();

      // Past the window: nothing was ever sent, and the server still has it in the inbox.
      await page.waitForTimeout(WINDOW_MS + 1500);
      expect(deletes()).toBe(deletesBefore);
      expect((await simMessage(fx, id))?.folder_ids).toEqual([fx.inboxId]);
      expect(await rowById(page, id).count()).toBe(1);
      await page.locator('[data-testid="status-pending"]', { hasText: 'all changes saved' }).waitFor();
      // An undo is not a refusal: no error toast.
      expect(await page.locator('[data-testid="toast"][data-kind="error"]').count()).toBe(0);
      expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('trash without Undo (two selected, bulk Trash): held for the window, then in Trash on the server in one request; z then has nothing to undo', async () => {
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      await openInbox(page, fx);
      const a = await deliverUnderCursor(page, 'First to go');
      await page.keyboard.press('x');
      const b = await deliverUnderCursor(page, 'Second to go');
      await page.keyboard.press('x');
      await page.locator('[data-testid="bulk-bar"]', { hasText: '2 selected' }).waitFor();
      const trashId = await fx.folderId('trash');
      const deletesBefore = deletes();

      const startedAt = Date.now();
      await page.click('[data-testid="bulk-trash"]');
      for (const id of [a, b]) await rowById(page, id).waitFor({ state: 'detached' });
      await toastWith(page, 'Moved 2 messages to Trash').locator('[data-testid="toast-action"]', { hasText: 'Undo' }).waitFor();
      // Held: a second in, the server has seen nothing.
      await page.waitForTimeout(1000);
      expect(deletes()).toBe(deletesBefore);
      for (const id of [a, b]) expect((await simMessage(fx, id))?.folder_ids).toEqual([fx.inboxId]);

      await eventually(async () => {
        const snap = await fx.sim.snapshot();
        return [a, b].every((id) => snap.messages.find((m) => m.id === id)?.folder_ids.includes(trashId));
      }, 'both in Trash on the server');
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(WINDOW_MS - 500);
      for (const id of [a, b]) expect((await simMessage(fx, id))?.folder_ids).toEqual([trashId]);
      expect(deletes() - deletesBefore).toBe(1);

      // The window is over: z cannot bring them back, and says so.
      await page.keyboard.press('z');
      await toastWith(page, 'Nothing to undo').waitFor();
      await page.waitForTimeout(300);
      for (const id of [a, b]) expect(await rowById(page, id).count()).toBe(0);
    } finally {
      await browser.close();
    }
  });

  /** Opens Compose, fills it and sends; returns the subject. */
  async function composeAndSend(page: Page, subject: string): Promise<void> {
    await page.click('[data-testid="compose-open"]');
    await page.fill('[data-testid="compose-to"]', 'grace@example.org');
    await page.fill('[data-testid="compose-subject"]', subject);
    await page.fill('[data-testid="compose-body"]', 'Maybe not.');
    await page.click('[data-testid="compose-send"]');
    await page.locator('[data-testid="compose"]').waitFor({ state: 'detached' });
  }

  it('send, then Undo (the toast, and z): the server never sees either message, the outbox is empty and the draft reopens', async () => {
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      await openInbox(page, fx);
      const sendsBefore = sends();
      const submissionsBefore = (await fx.sim.snapshot()).submissions.length;
      const first = `Undo me ${Date.now().toString(36)}`;
      const second = `${first} too`;

      await composeAndSend(page, first);
      await page.locator('[data-testid="outbox-item"]', { hasText: first }).waitFor();
      await toastWith(page, 'Sending…').locator('[data-testid="toast-action"]', { hasText: 'Undo' }).click();
      await toastWith(page, 'Sending undone').waitFor();
      // The draft comes back as it was written.
      await page.locator('[data-testid="compose"]').waitFor();
      expect(await page.inputValue('[data-testid="compose-subject"]')).toBe(first);
      expect(await page.inputValue('[data-testid="compose-to"]')).toBe('grace@example.org');
      await page.click('[data-testid="compose"] button[aria-label="Close"]');
      await page.locator('[data-testid="compose"]').waitFor({ state: 'detached' });
      await page.locator('[data-testid="outbox-item"]').waitFor({ state: 'detached' });

      await composeAndSend(page, second);
      await toastWith(page, 'Sending…').waitFor();
      await page.keyboard.press('z');
      // (The first send's "Sending undone" may still be showing.)
      await toastWith(page, 'Sending undone').last().waitFor();
      await page.locator('[data-testid="compose"]').waitFor();
      expect(await page.inputValue('[data-testid="compose-subject"]')).toBe(second);
      await page.click('[data-testid="compose"] button[aria-label="Close"]');

      // Past the window: nothing reached the server.
      await page.waitForTimeout(WINDOW_MS + 1500);
      const snap = await fx.sim.snapshot();
      expect(snap.messages.filter((m) => m.subject === first || m.subject === second)).toEqual([]);
      expect(snap.submissions.length).toBe(submissionsBefore);
      expect(sends()).toBe(sendsBefore);
      expect(await page.locator('[data-testid="outbox-item"]').count()).toBe(0);
      expect(await page.locator('[data-testid="status-outbox"]').count()).toBe(0);
      expect(await toastWith(page, /^Sent$/).count()).toBe(0);
      // No toast speaks the engine's internals.
      for (const t of await page.locator('[data-testid="toast-text"]').allTextContents()) expect(t).not.toMatch(/outbox|seq|discard|delay|hold/i);
    } finally {
      await browser.close();
    }
  });

  it('send without Undo: held for the window, then on the server once; the toast says Sent and the outbox empties', async () => {
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      await openInbox(page, fx);
      const sendsBefore = sends();
      const subject = `Goes out ${Date.now().toString(36)}`;
      const startedAt = Date.now();
      await composeAndSend(page, subject);
      await toastWith(page, 'Sending…').waitFor();
      await page.locator('[data-testid="outbox-item"]', { hasText: subject }).waitFor();
      // Held: a second in, the server has not seen it.
      await page.waitForTimeout(1000);
      expect(sends()).toBe(sendsBefore);
      expect((await fx.sim.snapshot()).messages.some((m) => m.subject === subject)).toBe(false);

      await page.locator('[data-testid="toast-text"]', { hasText: /^Sent$/ }).waitFor({ timeout: 20_000 });
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(WINDOW_MS - 500);
      const sent = (await fx.sim.snapshot()).messages.filter((m) => m.subject === subject);
      expect(sent).toHaveLength(1);
      expect(sends() - sendsBefore).toBe(1);
      await page.locator('[data-testid="outbox-item"]').waitFor({ state: 'detached' });
      // Too late now: z does not pretend to unsend it.
      await page.keyboard.press('z');
      await toastWith(page, 'Nothing to undo').waitFor();
      expect((await fx.sim.snapshot()).messages.filter((m) => m.subject === subject)).toHaveLength(1);
    } finally {
      await browser.close();
    }
  });
});
