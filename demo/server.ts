// The demo's web server: a Vite dev server for demo/web plus a tiny config
// endpoint. The browser never reads its configuration from localStorage; it asks
// this server (`GET /__demo/config`) which API to talk to and whether the
// simulator's control surface is available.
//
// Two modes:
// - simulator: the client talks to the simulator directly (it sends CORS headers),
//   with the simulator's test key; the "outside world" panel drives `/__sim/*`.
// - service: the client talks to `/api/v1` on this same origin; the dev-server
//   proxy forwards to https://app.sendmux.ai and injects the Authorization header,
//   so the real API key never reaches the browser.
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import react from '@vitejs/plugin-react';
import { createServer, type Plugin, type ViteDevServer } from 'vite';

/** The parts of a running simulator the demo server needs. */
export interface DemoSimulator {
  url: string;
  apiKey: string;
  mailboxId: string;
}

export type DemoBackend =
  | { kind: 'simulator'; sim: DemoSimulator }
  | { kind: 'service'; apiKey: string; mailboxId?: string; target?: string };

export interface DemoServerOptions {
  backend: DemoBackend;
  /** 0 picks a free port. Default 5173. */
  port?: number;
  host?: string;
  /** Fail instead of trying the next port when `port` is taken. */
  strictPort?: boolean;
}

/** What `GET /__demo/config` answers; the web client's only source of settings. */
export interface DemoClientConfig {
  mode: 'simulator' | 'service';
  /** Absolute, or relative to the page's origin (service mode goes through the proxy). */
  baseUrl: string;
  /** The simulator's test key; in service mode a placeholder the proxy replaces. */
  apiKey: string;
  mailboxId: string | null;
  /** Base of the simulator's control surface (`POST <simControlUrl>/<name>`), or null. */
  simControlUrl: string | null;
}

export interface DemoServer {
  url: string;
  port: number;
  vite: ViteDevServer;
  close(): Promise<void>;
}

const WEB_ROOT = fileURLToPath(new URL('./web/', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const SERVICE_ORIGIN = 'https://app.sendmux.ai';
/** Sent by the browser in service mode; the proxy overwrites it with the real key. */
export const PROXY_KEY_PLACEHOLDER = 'injected-by-dev-server-proxy';

function clientConfig(backend: DemoBackend): DemoClientConfig {
  if (backend.kind === 'simulator') {
    const base = new URL(backend.sim.url);
    return {
      mode: 'simulator',
      baseUrl: backend.sim.url,
      apiKey: backend.sim.apiKey,
      mailboxId: backend.sim.mailboxId,
      simControlUrl: `${base.origin}/__sim`,
    };
  }
  return {
    mode: 'service',
    baseUrl: '/api/v1',
    apiKey: PROXY_KEY_PLACEHOLDER,
    mailboxId: backend.mailboxId ?? null,
    simControlUrl: null,
  };
}

function configPlugin(config: DemoClientConfig): Plugin {
  return {
    name: 'sendmux-demo-config',
    configureServer(server) {
      server.middlewares.use('/__demo/config', (_req: IncomingMessage, res: ServerResponse) => {
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('Cache-Control', 'no-store');
        res.end(JSON.stringify(config));
      });
    },
  };
}

/** Starts the Vite dev server for the web client. */
export async function createDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  const { backend } = options;
  const config = clientConfig(backend);
  const proxy =
    backend.kind === 'service'
      ? {
          '/api/v1': {
            target: backend.target ?? SERVICE_ORIGIN,
            changeOrigin: true,
            configure(proxyServer: { on(event: 'proxyReq', cb: (req: { setHeader(n: string, v: string): void }) => void): void }) {
              // The key lives only in this process: every proxied request gets it here.
              proxyServer.on('proxyReq', (proxyReq) => {
                proxyReq.setHeader('Authorization', `Bearer ${backend.apiKey}`);
              });
            },
          },
        }
      : undefined;

  const vite = await createServer({
    configFile: false,
    root: WEB_ROOT,
    // Its own pre-bundle cache: the demo and the browser tests may run side by side.
    cacheDir: fileURLToPath(new URL('../node_modules/.vite/sendmux-demo', import.meta.url)),
    logLevel: 'warn',
    clearScreen: false,
    plugins: [react(), configPlugin(config)],
    server: {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 5173,
      strictPort: options.strictPort ?? false,
      // The client imports the engine straight from ../../src.
      fs: { allow: [REPO_ROOT] },
      ...(proxy ? { proxy } : {}),
    },
    optimizeDeps: {
      entries: ['index.html'],
      // Pre-bundle everything the client and the engine import, so the first page
      // load never triggers Vite's "new dependencies found, reloading" navigation.
      include: ['react', 'react-dom', 'react-dom/client', 'react/jsx-dev-runtime', 'rxjs', 'dexie', 'eventsource', 'dompurify'],
    },
  });
  await vite.listen();
  const address = vite.httpServer?.address() as AddressInfo | null;
  if (!address) throw new Error('demo: the Vite dev server did not bind a port');
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host}:${address.port}/`;
  return {
    url,
    port: address.port,
    vite,
    async close() {
      await vite.close();
    },
  };
}
