// `npm run demo`: the simulator (or the real service) plus the web client's dev
// server. demo/start.mjs parses the command line and calls launchDemo().
import { createDemoServer, type DemoServer } from './server.js';
import { startSimulator } from '../src/sim/index.js';

export interface LaunchOptions {
  port: number;
  host: string;
  seed: number;
  messages: number;
  /** Seconds between simulated inbound messages; 0 disables. */
  deliverEverySeconds: number;
  /** When set, talk to the real service through the dev-server proxy. */
  apiKey?: string;
  mailboxId?: string;
  log?: (line: string) => void;
}

export interface LaunchedDemo {
  url: string;
  mode: 'simulator' | 'service';
  close(): Promise<void>;
}

export async function launchDemo(options: LaunchOptions): Promise<LaunchedDemo> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.apiKey) {
    const server = await createDemoServer({
      backend: { kind: 'service', apiKey: options.apiKey, ...(options.mailboxId ? { mailboxId: options.mailboxId } : {}) },
      port: options.port,
      host: options.host,
    });
    log(`sendmux demo (real service via the dev-server proxy): ${server.url}`);
    return { url: server.url, mode: 'service', close: () => server.close() };
  }

  const sim = await startSimulator({
    port: 0,
    host: '127.0.0.1',
    seed: options.seed,
    messages: options.messages,
    control: true,
  });
  let server: DemoServer;
  try {
    server = await createDemoServer({ backend: { kind: 'simulator', sim }, port: options.port, host: options.host });
  } catch (err) {
    await sim.close();
    throw err;
  }
  const timer =
    options.deliverEverySeconds > 0
      ? setInterval(() => {
          // The simulator generates realistic mail from the mailbox's correspondents.
          sim.control.deliver().catch((err: unknown) => console.error('demo: delivery failed:', err));
        }, options.deliverEverySeconds * 1000)
      : undefined;
  log(`sendmux simulator (seed ${options.seed}, ${options.messages} messages): ${sim.url}`);
  log(`sendmux demo: ${server.url}`);
  return {
    url: server.url,
    mode: 'simulator',
    async close() {
      if (timer) clearInterval(timer);
      await server.close();
      await sim.close();
    },
  };
}
