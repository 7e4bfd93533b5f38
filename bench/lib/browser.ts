// Chromium with real IndexedDB: bundles bench/browser/*.ts with vite, serves them
// from a loopback origin that also proxies /api/* to the current simulator (so the
// engine in the page talks same-origin, no CORS), and drives the page with
// playwright-core. A persistent context keeps IndexedDB on disk: a plain
// browser.newPage() context is incognito and keeps IndexedDB in memory.
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Bundles one browser entry (a file under bench/browser/) into `outDir`; returns the file name. */
async function bundle(entry: string, outDir: string, name: string): Promise<string> {
  const { build } = await import('vite');
  await build({
    configFile: false,
    logLevel: 'error',
    root: BENCH_DIR,
    build: {
      outDir,
      emptyOutDir: false,
      minify: true,
      sourcemap: false,
      target: 'es2022',
      lib: { entry: join(BENCH_DIR, 'browser', entry), formats: ['es'], fileName: () => `${name}.js` },
      rolldownOptions: { output: { codeSplitting: false } },
    },
    // RxDB pins a nested Dexie 4.4.2; Dexie refuses two copies in one page, so use the app's.
    resolve: { dedupe: ['dexie'] },
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return `${name}.js`;
}

export interface BrowserHarness {
  page: Page;
  context: BrowserContext;
  origin: string;
  chromiumVersion: string;
  /** Where /api/* is forwarded (a simulator's origin), or null. */
  setProxyTarget(origin: string | null): void;
  /** Serves a JSON document at `path` (e.g. the dataset). */
  serveJson(path: string, body: string): void;
  /** Loads a bundle into a fresh page at the harness origin and waits for `globalName`. */
  load(bundleName: string, globalName: string): Promise<void>;
  bundleFile(entry: string, name: string): Promise<string>;
  cdp(): Promise<CDPSession>;
  close(): Promise<void>;
}

function proxy(req: IncomingMessage, res: ServerResponse, target: string): void {
  const url = new URL(req.url ?? '/', target);
  const upstream = httpRequest(
    url,
    { method: req.method, headers: { ...req.headers, host: url.host } },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      // SSE responses must flow byte by byte; pipe does not buffer.
      up.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

export async function launchBrowser(log: (msg: string) => void): Promise<BrowserHarness> {
  const outDir = await mkdtemp(join(tmpdir(), 'sendmux-bench-bundle-'));
  const profile = await mkdtemp(join(tmpdir(), 'sendmux-bench-profile-'));
  const files = new Map<string, { type: string; body: string | Buffer }>();
  const bundles = new Map<string, Promise<string>>();
  let target: string | null = null;
  files.set('/', { type: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>sendmux bench</title><body></body>' });

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith('/api/')) {
      if (!target) {
        res.writeHead(503).end();
        return;
      }
      proxy(req, res, target);
      return;
    }
    const f = files.get(path);
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store' });
    res.end(f.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const chromiumVersion = context.browser()?.version() ?? 'unknown';
  let page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => log(`[chromium pageerror] ${e.message}`));
  log(`chromium ${chromiumVersion} at ${origin}`);

  const harness: BrowserHarness = {
    get page() {
      return page;
    },
    context,
    origin,
    chromiumVersion,
    setProxyTarget(o) {
      target = o;
    },
    serveJson(path, body) {
      files.set(path, { type: 'application/json', body });
    },
    bundleFile(entry, name) {
      let p = bundles.get(entry);
      if (!p) {
        p = (async () => {
          const file = await bundle(entry, outDir, name);
          files.set(`/${file}`, { type: 'text/javascript', body: await readFile(join(outDir, file)) });
          return file;
        })();
        bundles.set(entry, p);
      }
      return p;
    },
    async load(bundleName, globalName) {
      // A fresh page per load: no state (heap, open DBs, subscriptions) leaks between figures.
      const old = page;
      page = await context.newPage();
      page.on('pageerror', (e) => log(`[chromium pageerror] ${e.message}`));
      await old.close();
      await page.goto(`${origin}/`);
      await page.addScriptTag({ url: `/${bundleName}`, type: 'module' });
      await page.waitForFunction((g) => g in globalThis, globalName, { timeout: 30_000 });
    },
    cdp() {
      return context.newCDPSession(page);
    },
    async close() {
      await context.close().catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await rm(outDir, { recursive: true, force: true });
      await rm(profile, { recursive: true, force: true });
    },
  };
  return harness;
}
