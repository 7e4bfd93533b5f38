// Issue 18, points 4 and 5: what the client shows. The skeleton on first paint,
// the folder tree, badges, one date format, recipients in Sent, the search header,
// blocked remote images with "Show images", and layouts from 390 px to 1280 px
// (screenshots in test/artifacts/).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, chromiumAvailable, openBrowser } from './harness.js';
import { newestInbox, openInbox, rowById, startFixture, type DemoFixture } from './demoPage.js';

const DATE = /^(\d\d:\d\d|[A-Z][a-z]{2} \d{1,2}|\d{4}-\d\d-\d\d)$/;

describe.skipIf(!chromiumAvailable)('demo display in Chromium', { timeout: 90_000 }, () => {
  let fx: DemoFixture;
  beforeAll(async () => {
    fx = await startFixture(13, 400);
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('first paint: the shell with placeholder rows, not a blank page, before the engine is ready', async () => {
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      await fx.sim.control.setLatency(500); // the engine cannot have data for a while
      const started = Date.now();
      await page.goto(fx.demo.url, { waitUntil: 'commit' });
      await page.waitForTimeout(Math.max(0, 300 - (Date.now() - started)));
      await page.screenshot({ path: artifactPath('demo-first-paint.png') });
      const shown = await page.evaluate(() => ({
        skeletons: [...document.querySelectorAll('.skeleton')].filter((e) => (e as HTMLElement).offsetHeight > 0).length,
        topbar: document.querySelector('.topbar') !== null,
        status: document.querySelector('.statusbar')?.textContent ?? '',
        rows: document.querySelectorAll('[data-testid="message-row"]').length,
      }));
      expect(shown.topbar).toBe(true);
      expect(shown.rows).toBe(0);
      expect(shown.skeletons).toBeGreaterThan(5);
      expect(shown.status).toMatch(/Starting|Downloading|Syncing/);
      await fx.sim.control.setLatency(0);
      await page.locator('[data-testid="message-row"]').first().waitFor({ timeout: 30_000 });
      expect(await page.locator('.skeleton').count()).toBe(0);
    } finally {
      await fx.sim.control.setLatency(0);
      await browser.close();
    }
  });

  it('folder tree under its parent, no unread badges for Trash and Junk, one date format, To: in Sent', async () => {
    const snap = await fx.sim.snapshot();
    const projects = snap.folders.find((f) => f.name === 'Projects');
    const child = snap.folders.find((f) => f.parent_id === projects?.id);
    if (!projects || !child) throw new Error('seeded mailbox has no nested folder');
    // An unread message in Trash, so Trash has something to (not) count.
    const [unread] = await newestInbox(fx, 1);
    if (unread) await fx.sim.control.trash([unread.id]);
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      await openInbox(page, fx);
      const items = page.locator('[data-testid="folder-item"]');
      await page.locator(`[data-testid="folder-item"][data-folder-id="${child.id}"]`).waitFor();
      const order = await items.evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-folder-id'), depth: e.getAttribute('data-depth'), role: e.getAttribute('data-role') })));
      const pi = order.findIndex((f) => f.id === projects.id);
      const ci = order.findIndex((f) => f.id === child.id);
      expect(ci).toBe(pi + 1);
      expect(order[ci]?.depth).toBe('1');
      expect(order[pi]?.depth).toBe('0');
      // System folders first, Trash among them, custom folders after.
      expect(order.findIndex((f) => f.role === 'trash')).toBeLessThan(pi);

      for (const role of ['trash', 'junk']) {
        const item = page.locator(`[data-testid="folder-item"][data-role="${role}"]`);
        if ((await item.count()) === 0) continue;
        expect(await item.locator('[data-testid="folder-unread"]').count(), role).toBe(0);
      }
      await expect.poll(async () => Number(await page.locator('[data-testid="folder-item"][data-role="trash"]').getAttribute('data-unread'))).toBeGreaterThan(0);
      expect(await page.locator('[data-testid="folder-item"][data-role="inbox"] [data-testid="folder-unread"]').count()).toBe(1);

      // One date format, the full date in the title.
      const { id } = await fx.sim.control.deliver({ subject: 'Dated today', from: { email: 'clock@example.org', name: 'Clock' }, text: 'tick' });
      await rowById(page, id).waitFor({ timeout: 15_000 });
      const dates = await page.locator('[data-testid="row-date"]').evaluateAll((els) => els.map((e) => ({ text: e.textContent ?? '', title: e.getAttribute('title') ?? '' })));
      expect(dates.length).toBeGreaterThan(5);
      for (const d of dates) {
        expect(d.text).toMatch(DATE);
        expect(d.title).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
      }
      expect(await rowById(page, id).locator('[data-testid="row-date"]').textContent()).toMatch(/^\d\d:\d\d$/);

      // Sent lists the recipients, not the mailbox owner.
      await page.click('[data-testid="folder-item"][data-role="sent"]');
      await page.locator('[data-testid="list-title"]', { hasText: 'Sent' }).waitFor();
      await page.locator('[data-testid="message-row"]').first().waitFor();
      const who = await page.locator('[data-testid="row-who"]').allTextContents();
      const self = snap.identities[0];
      expect(who.length).toBeGreaterThan(0);
      for (const w of who) {
        expect(w).toMatch(/^To: /);
        if (self?.name) expect(w).not.toContain(self.name);
      }
    } finally {
      await browser.close();
    }
  });

  it('search header says where hits came from; matches are highlighted and each row names its folder', async () => {
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      await openInbox(page, fx);
      await fx.sim.control.deliver({ subject: 'Marmalade recipe', from: { email: 'cook@kitchen.example', name: 'Cook' }, text: 'oranges and sugar' });
      await page.locator('[data-testid="message-row"] .subject', { hasText: 'Marmalade recipe' }).waitFor({ timeout: 15_000 });
      await page.fill('[data-testid="search"]', 'marmalade');
      await page.locator('[data-testid="list-title"]', { hasText: 'Search: “marmalade”' }).waitFor();
      const count = page.locator('[data-testid="list-count"]');
      await expect.poll(async () => (await count.textContent()) ?? '', { timeout: 20_000 }).toMatch(/^\d+ in this mailbox · server search: \d+ more$/);
      const row = page.locator('[data-testid="message-row"]').first();
      expect((await row.locator('[data-testid="hit"]').first().textContent())?.toLowerCase()).toBe('marmalade');
      expect(await row.locator('[data-testid="row-folder"]').textContent()).toBe('Inbox');
      await page.screenshot({ path: artifactPath('demo-search.png') });
    } finally {
      await browser.close();
    }
  });

  it('a blocked remote image shows a placeholder; "Show images" loads it for that message only', async () => {
    // A real image server (request interception does not see loads from the
    // sandboxed, opaque-origin body frame): it counts what the browser fetched.
    let imageRequests = 0;
    const images: Server = createServer((_req, res) => {
      imageRequests++;
      res.writeHead(200, { 'Content-Type': 'image/gif' }).end(Buffer.from('R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=', 'base64'));
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    const imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/office.gif`;
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      await openInbox(page, fx);
      const html = `<p>Our new office:</p><img id="photo" src="${imageUrl}" width="200" height="100" alt="office">`;
      const a = await fx.sim.control.deliver({ subject: 'Photo A', from: { email: 'news@letter.example', name: 'Letter' }, html });
      const b = await fx.sim.control.deliver({ subject: 'Photo B', from: { email: 'news@letter.example', name: 'Letter' }, html });
      await rowById(page, a.id).click();
      const frame = page.frameLocator('[data-testid="message-body"]');
      await frame.locator('img[data-sendmux-blocked]').waitFor({ timeout: 15_000 });
      const box = await frame.locator('img[data-sendmux-blocked]').boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(40);
      expect(await frame.locator('img[data-sendmux-blocked]').getAttribute('src')).toBeNull();
      expect(imageRequests).toBe(0);
      await page.click('[data-testid="show-images"]');
      await expect.poll(async () => frame.locator('img').first().getAttribute('src')).toBe(imageUrl);
      await expect.poll(() => imageRequests).toBeGreaterThan(0);
      await page.locator('[data-testid="blocked-images"]').waitFor({ state: 'detached' });
      // Another message: blocked again.
      const before = imageRequests;
      await rowById(page, b.id).click();
      await page.locator(`[data-testid="reading-pane"][data-id="${b.id}"]`).waitFor();
      await frame.locator('img[data-sendmux-blocked]').waitFor({ timeout: 15_000 });
      await page.locator('[data-testid="blocked-images"]').waitFor();
      await page.waitForTimeout(300);
      expect(imageRequests).toBe(before);
    } finally {
      await browser.close();
      await new Promise((resolve) => images.close(resolve));
    }
  });

  it('layouts: 1280 px three panes, 900 px keeps the reading pane, 390 px list and message as separate views with a back button', async () => {
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1280, height: 800 });
      await openInbox(page, fx);
      // The simulator's control panel is a tool beside the client; hide it for the layouts.
      if (await page.locator('[data-testid="outside-world"]').count()) await page.click('[data-testid="outside-toggle"]');
      const [first] = await newestInbox(fx, 1);
      if (!first) throw new Error('empty inbox');
      await rowById(page, first.id).click();
      await page.locator(`[data-testid="reading-pane"][data-id="${first.id}"]`).waitFor();
      await page.frameLocator('[data-testid="message-body"]').locator('body').waitFor();
      await page.screenshot({ path: artifactPath('demo-1280.png') });

      const visibleWidth = async (testid: string) => (await page.locator(`[data-testid="${testid}"]`).first().boundingBox())?.width ?? 0;
      await page.setViewportSize({ width: 900, height: 800 });
      await expect.poll(() => visibleWidth('reading-pane')).toBeGreaterThan(400);
      expect(await visibleWidth('list-pane')).toBeGreaterThan(250);
      await page.screenshot({ path: artifactPath('demo-900.png') });

      await page.setViewportSize({ width: 390, height: 844 });
      await page.keyboard.press('Escape'); // back to the list
      await expect.poll(() => page.locator('[data-testid="reading-pane"]').isVisible()).toBe(false);
      expect(await page.locator('[data-testid="list-pane"]').isVisible()).toBe(true);
      expect(await page.locator('[data-testid="sidebar"]').isVisible()).toBe(false);
      // Nothing sticks out sideways.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: artifactPath('demo-390.png') });

      await rowById(page, first.id).click();
      await page.locator('[data-testid="reading-pane"]').waitFor({ state: 'visible' });
      expect(await page.locator('[data-testid="list-pane"]').isVisible()).toBe(false);
      expect(await visibleWidth('reading-pane')).toBeGreaterThan(380);
      await page.screenshot({ path: artifactPath('demo-390-message.png') });
      await page.click('[data-testid="back"]');
      await page.locator('[data-testid="list-pane"]').waitFor({ state: 'visible' });

      // The folders open as a drawer.
      await page.click('[data-testid="folders-toggle"]');
      await page.locator('[data-testid="sidebar"]').waitFor({ state: 'visible' });
      await page.click('[data-testid="folder-item"][data-role="sent"]');
      await page.locator('[data-testid="list-title"]', { hasText: 'Sent' }).waitFor();
      expect(await page.locator('[data-testid="sidebar"]').isVisible()).toBe(false);
    } finally {
      await browser.close();
    }
  });
});
