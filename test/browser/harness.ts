// Browser test harness: the simulator, the demo's Vite server and Chromium
// (playwright-core, the system /usr/bin/chromium), all started on free ports and
// torn down after the suite.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createDemoServer, type DemoServer } from '../../demo/server.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM_PATH);
export const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

if (!chromiumAvailable) {
  if (process.env.CI === 'true') {
    // In CI a missing browser is a broken environment, not a reason to skip.
    throw new Error(`browser tests: Chromium not found at ${CHROMIUM_PATH} and CI=true`);
  }
  console.warn(
    [
      '',
      '#'.repeat(78),
      `#  BROWSER TESTS SKIPPED: Chromium not found at ${CHROMIUM_PATH}.`,
      '#  Install chromium (or set CHROMIUM_PATH) to run the demo tests.',
      '#'.repeat(78),
      '',
    ].join('\n'),
  );
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A fresh Chromium profile (its own IndexedDB), removed on close. */
export async function openBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sendmux-demo-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startDemo(sim: { url: string; apiKey: string; mailboxId: string }): Promise<DemoServer> {
  return createDemoServer({ backend: { kind: 'simulator', sim }, port: 0, strictPort: true });
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return join(ARTIFACTS_DIR, name);
}

/** Collects page errors and console errors so a failing test can show them. */
export function watchConsole(page: Page): string[] {
  const lines: string[] = [];
  page.on('pageerror', (err) => lines.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') lines.push(`console.error: ${msg.text()}`);
  });
  return lines;
}

/** Polls `check` until it returns true (the engine converges asynchronously). */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
