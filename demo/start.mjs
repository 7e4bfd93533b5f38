#!/usr/bin/env node
// `npm run demo [-- --port 5173 --messages 3000 --seed 1 --deliver-every 8]`
//
// Starts the simulator (seeded mailbox, new mail every few seconds, control surface
// on) and the web client's dev server, and prints the URL. With SENDMUX_API_KEY set
// there is no simulator: the client talks to https://app.sendmux.ai through the dev
// server's proxy, which adds the key server-side. Ctrl-C shuts both down.
import { parseArgs } from 'node:util';
import { tsImport } from 'tsx/esm/api';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '5173' },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string', default: '1' },
    messages: { type: 'string', default: '3000' },
    'deliver-every': { type: 'string', default: '8' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: npm run demo -- [--port 5173] [--host 127.0.0.1] [--seed 1] [--messages 3000] [--deliver-every 8]
env: SENDMUX_API_KEY=...  use the real service (key stays in the dev server)
     SENDMUX_MAILBOX_ID=... target one granted mailbox (connected-app keys)`);
  process.exit(0);
}

const toInt = (name, text) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`demo: --${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
};

const { launchDemo } = await tsImport('./launch.ts', import.meta.url);
const demo = await launchDemo({
  port: toInt('port', values.port),
  host: values.host,
  seed: toInt('seed', values.seed),
  messages: toInt('messages', values.messages),
  deliverEverySeconds: toInt('deliver-every', values['deliver-every']),
  apiKey: process.env.SENDMUX_API_KEY || undefined,
  mailboxId: process.env.SENDMUX_MAILBOX_ID || undefined,
});
console.log(`\n  Open ${demo.url} in your browser. Ctrl-C to stop.\n`);

let stopping = false;
const shutdown = async (signal) => {
  if (stopping) {
    // A second Ctrl-C means "now".
    process.exit(130);
  }
  stopping = true;
  console.log(`\n${signal}: shutting down...`);
  try {
    await demo.close();
    process.exit(0);
  } catch (err) {
    console.error('demo: shutdown failed:', err);
    process.exit(1);
  }
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
