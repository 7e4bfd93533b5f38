// Opening the replica of the mailbox a key names: the data folder, one SQLite file
// per mailbox in it, and the engine on that file. The key comes from the environment
// and is passed to the engine only; it is never written or printed.
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createMailboxApi, SendmuxApiError } from '../api/index.js';
import { createMailboxSync, type MailboxSync } from '../index.js';
import { sqliteStorage } from '../sqlite.js';
import { CliError, EXIT } from './errors.js';

/** Where replicas live by default: XDG on Linux, Application Support on macOS, %LOCALAPPDATA% on Windows. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'sendmux-sync');
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'sendmux-sync');
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'sendmux-sync');
}

/** Settings from the environment and the global options. */
export interface Connection {
  apiKey: string;
  baseUrl?: string;
  dataDir: string;
}

export function connectionFrom(env: NodeJS.ProcessEnv, dataDir: string | undefined): Connection {
  const apiKey = env.SENDMUX_API_KEY ?? '';
  if (!apiKey) throw new CliError('SENDMUX_API_KEY is not set: export SENDMUX_API_KEY=smx_mbx_… (the key is read from the environment only)', EXIT.auth, 'no_key');
  return { apiKey, ...(env.SENDMUX_BASE_URL ? { baseUrl: env.SENDMUX_BASE_URL } : {}), dataDir: dataDir ?? defaultDataDir(env) };
}

/** An error of the API client as a one-line CLI error with the right exit code. */
export function cliErrorOf(error: unknown, baseUrl: string | undefined): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof SendmuxApiError) {
    if (error.status === 401 || error.status === 403 || error.code === 'unauthorized') {
      return new CliError(`the API refused the key (${error.status || error.code}): check SENDMUX_API_KEY`, EXIT.auth, 'unauthorized');
    }
    if (error.code === 'network_error' || error.code === 'timeout') {
      return new CliError(`cannot reach the Mailbox API at ${baseUrl ?? 'https://app.sendmux.ai/api/v1'} (${error.code}): check the network or SENDMUX_BASE_URL`, EXIT.network, 'network');
    }
    return new CliError(`the API answered ${error.status} ${error.code}: ${error.message}`, EXIT.failure, error.code);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/unauthori[sz]ed|401/i.test(message)) return new CliError(`the API refused the key: check SENDMUX_API_KEY`, EXIT.auth, 'unauthorized');
  return new CliError(message.split('\n')[0] ?? 'failed', EXIT.failure);
}

/** An open mailbox: its engine on the replica file. */
export interface OpenMailbox {
  sync: MailboxSync;
  mailboxId: string;
  path: string;
  close(): Promise<void>;
}

/** Asks the session which mailbox the key opens (one request, few retries, so a dead server fails fast). */
async function mailboxIdOf(conn: Connection): Promise<string> {
  if (process.env.SENDMUX_MAILBOX_ID) return process.env.SENDMUX_MAILBOX_ID;
  const api = createMailboxApi({
    apiKey: conn.apiKey,
    ...(conn.baseUrl ? { baseUrl: conn.baseUrl } : {}),
    retry: { attempts: 2, baseDelayMs: 200, maxDelayMs: 1000 },
    timeoutMs: 10_000,
  });
  try {
    const { data } = await api.getSession();
    return data.mailbox.id;
  } catch (error) {
    throw cliErrorOf(error, conn.baseUrl);
  }
}

export interface OpenOptions {
  /** Called with bootstrap progress. */
  onProgress?: (done: number, total: number | null) => void;
  /** Start syncing (default true). */
  start?: boolean;
}

/** Opens (creating on first use) the replica of the key's mailbox and catches it up. */
export async function openMailbox(conn: Connection, options: OpenOptions = {}): Promise<OpenMailbox> {
  const mailboxId = await mailboxIdOf(conn);
  mkdirSync(conn.dataDir, { recursive: true, mode: 0o700 });
  const path = join(conn.dataDir, `${mailboxId.replace(/[^A-Za-z0-9_.-]/g, '_')}.sqlite`);
  const storage = sqliteStorage({ path });
  const sync = createMailboxSync({
    apiKey: conn.apiKey,
    ...(conn.baseUrl ? { baseUrl: conn.baseUrl } : {}),
    storage,
    apiOptions: { retry: { attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 } },
  });
  const close = async () => {
    await sync.stop();
  };
  if (options.start === false) return { sync, mailboxId, path, close };
  const sub = sync.status$.subscribe((s) => {
    if (s.phase === 'bootstrapping' && s.progress) options.onProgress?.(s.progress.done, s.progress.total);
  });
  // start() waits through network failures (the engine retries); a command line
  // gives up after a while instead.
  let offlineTimer: ReturnType<typeof setTimeout> | undefined;
  const started = sync.start();
  const offline = new Promise<never>((_, reject) => {
    const watch = sync.status$.subscribe((s) => {
      if (s.phase === 'offline' && !offlineTimer) {
        offlineTimer = setTimeout(() => reject(new CliError(`cannot reach the Mailbox API at ${conn.baseUrl ?? 'https://app.sendmux.ai/api/v1'}: the replica could not catch up`, EXIT.network, 'network')), 15_000);
      } else if (s.phase !== 'offline' && offlineTimer) {
        clearTimeout(offlineTimer);
        offlineTimer = undefined;
      }
    });
    void started.finally(() => watch.unsubscribe()).catch(() => undefined);
  });
  try {
    await Promise.race([started, offline]);
    // A first sync's messages are full-text indexed right after it: a command's
    // search then reads the index, not a bounded scan.
    await storage.whenIndexed();
  } catch (error) {
    await close().catch(() => undefined);
    throw cliErrorOf(error, conn.baseUrl);
  } finally {
    if (offlineTimer) clearTimeout(offlineTimer);
    sub.unsubscribe();
  }
  return { sync, mailboxId, path, close };
}
