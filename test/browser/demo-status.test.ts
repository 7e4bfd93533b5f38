// Issue 18, point 3: the status bar tells the truth. With the event stream cut and
// requests failing it never says "Live"; it says degraded (or offline) while the
// engine retries by itself, with no Retry toast and no engine jargon, and live
// again once the server answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, chromiumAvailable, eventually, openBrowser } from './harness.js';
import { newestInbox, openInbox, rowById, simMessage, startFixture, type DemoFixture } from './demoPage.js';

describe.skipIf(!chromiumAvailable)('demo status bar in Chromium', { timeout: 150_000 }, () => {
  let fx: DemoFixture;
  beforeAll(async () => {
    fx = await startFixture(12, 300);
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('a cut network shows degraded or offline, never Live, without Retry toasts; live again after recovery', async () => {
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      await openInbox(page, fx);
      const bar = page.locator('[data-testid="status-bar"]');
      await page.locator('[data-testid="status-bar"][data-state="live"]').waitFor({ timeout: 30_000 });
      expect(await page.locator('[data-testid="status-phase"]').textContent()).toContain('Live');

      // The outside world: every request fails with 503 and the event stream is dropped.
      await fx.sim.control.failNext({ count: 100_000, status: 503 });
      await fx.sim.control.cutEventStreams();
      await eventually(async () => ['degraded', 'offline'].includes((await bar.getAttribute('data-state')) ?? ''), 'status degraded or offline', 30_000);
      // A change made meanwhile waits in the outbox; the failing poll and update show as server errors.
      const [target] = await newestInbox(fx, 1);
      if (!target) throw new Error('empty inbox');
      await rowById(page, target.id).locator('[data-testid="toggle-flag"]').click();
      await page.locator('[data-testid="status-pending"]', { hasText: '1 change to send' }).waitFor();
      await page.locator('[data-testid="status-phase"]', { hasText: 'Server errors' }).waitFor({ timeout: 45_000 });
      // While it lasts the bar never claims Live.
      for (let i = 0; i < 10; i++) {
        expect(await bar.getAttribute('data-state')).not.toBe('live');
        expect(await page.locator('[data-testid="status-phase"]').textContent()).not.toContain('Live');
        await page.waitForTimeout(200);
      }
      await page.screenshot({ path: artifactPath('status-degraded.png') });
      // The engine retries by itself: no Retry buttons, no outbox internals.
      expect(await page.locator('[data-testid="toast-action"]', { hasText: 'Retry' }).count()).toBe(0);
      const texts = await page.locator('[data-testid="toast-text"]').allTextContents();
      for (const t of texts) expect(t).not.toMatch(/outbox|mutation|will retry|changes_failed|push_unavailable/i);

      // The device goes offline too: the bar says so.
      await browser.context.setOffline(true);
      await page.locator('[data-testid="status-bar"][data-state="offline"]').waitFor({ timeout: 15_000 });
      expect(await page.locator('[data-testid="status-phase"]').textContent()).toContain('Offline');
      await browser.context.setOffline(false);

      // Recovery: the server answers again; the change reaches it and the bar is live again.
      await fx.sim.control.failNext({ count: 0, status: 503 });
      await eventually(async () => (await simMessage(fx, target.id))?.flags.flagged === !target.flags.flagged, 'the queued change reaches the server', 60_000);
      await page.locator('[data-testid="status-bar"][data-state="live"]').waitFor({ timeout: 60_000 });
      expect(await page.locator('[data-testid="status-phase"]').textContent()).toContain('Live');
      await page.locator('[data-testid="status-pending"]', { hasText: 'all changes saved' }).waitFor();
    } finally {
      await fx.sim.control.failNext({ count: 0, status: 503 });
      await browser.close();
    }
  });
});
