// `sendmux-sync`: the engine on a SQLite replica from the command line. Data on
// stdout (`--json`: one JSON document; NDJSON for streams), progress and errors on
// stderr, one line per error and no stack trace; exit codes in errors.ts.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { MessagePatch } from '../index.js';
import { CliError, EXIT, usageError } from './errors.js';
import { connectionFrom, openMailbox, type OpenMailbox } from './mailbox.js';
import * as ops from './ops.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | string[] | undefined>;

interface Command {
  summary: string;
  usage: string;
  options: Options;
  /** Runs with the open mailbox; returns what to print (JSON or text). */
  run(ctx: Ctx): Promise<{ json: unknown; text: string } | undefined>;
  /** Does not need the mailbox (e.g. mcp opens its own). */
  bare?: boolean;
}

interface Ctx {
  values: Values;
  args: string[];
  json: boolean;
  box: OpenMailbox;
  ops: ops.Ops;
  dataDir: string | undefined;
}

const GLOBAL: Options = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'data-dir': { type: 'string' },
};

const num = (v: unknown, name: string, dflt: number, max = 1000): number => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw usageError(`--${name} must be a whole number from 1 to ${max}`);
  return n;
};

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

function line(m: ops.MessageSummary): string {
  const flags = `${m.unread ? '*' : ' '}${m.flagged ? '!' : ' '}`;
  return `${flags} ${m.id}  ${(m.received_at ?? '').slice(0, 16).replace('T', ' ')}  ${m.from.slice(0, 30).padEnd(30)}  ${m.subject}`;
}

const mutationText = (r: ops.MutationResult) =>
  r.results.map((o) => `${o.id}: ${o.status}${o.reason ? ` (${o.reason})` : ''}`).join('\n');

function ensureOk(r: ops.MutationResult): ops.MutationResult {
  if (!r.ok) process.exitCode = EXIT.failure;
  return r;
}

function patchOf(v: Values): MessagePatch {
  const patch: MessagePatch = {};
  if (v.read && v.unread) throw usageError('--read and --unread contradict each other');
  if (v.flag && v.unflag) throw usageError('--flag and --unflag contradict each other');
  if (v.read) patch.seen = true;
  if (v.unread) patch.seen = false;
  if (v.flag) patch.flagged = true;
  if (v.unflag) patch.flagged = false;
  const keywords: Record<string, boolean> = {};
  for (const k of list(v.label)) keywords[k.toLowerCase()] = true;
  for (const k of list(v.unlabel)) keywords[k.toLowerCase()] = false;
  if (Object.keys(keywords).length) patch.keywords = keywords;
  return patch;
}

async function sendOrKeep(ctx: Ctx, draftId: string) {
  const yes = ctx.values.yes === true;
  const r = await ops.sendDraft(ctx.ops, draftId, yes, 'not sent: pass --yes to send it');
  return {
    json: r,
    text: r.sent ? `sent ${draftId} as ${r.message_id}` : r.status === 'draft' ? `draft ${draftId} saved, not sent (send it with: sendmux-sync send --draft ${draftId} --yes)` : `${draftId}: ${r.status}${r.note ? ` (${r.note})` : ''}`,
  };
}

const COMMANDS: Record<string, Command> = {
  sync: {
    summary: 'download the mailbox, then stay live until Ctrl-C',
    usage: 'sync [--once]   (progress on stderr; --json streams NDJSON events of new mail)',
    options: { once: { type: 'boolean' } },
    async run(ctx) {
      const s = await ops.status(ctx.ops, ctx.box.mailboxId, ctx.box.path);
      if (ctx.values.once) return { json: s, text: `caught up: ${s.messages} messages (${s.unread} unread) in ${s.replica}` };
      // The cursor first: mail that arrives after "live" is announced is streamed.
      let cursor = (await ops.whatsNew(ctx.ops, undefined, 1)).cursor;
      process.stderr.write(`live: ${s.messages} messages; Ctrl-C to stop\n`);
      const ticker = ctx.box.sync.status$.subscribe(() => undefined);
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          void ops.whatsNew(ctx.ops, cursor, 100).then((news) => {
            cursor = news.cursor;
            for (const m of news.messages) process.stdout.write(ctx.json ? `${JSON.stringify({ event: 'message', message: m, cursor })}\n` : `${line(m)}\n`);
          }, () => undefined);
        }, 1000);
        const done = () => {
          clearInterval(tick);
          resolve();
        };
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      ticker.unsubscribe();
      return undefined;
    },
  },
  status: {
    summary: 'replica and sync state',
    usage: 'status',
    options: {},
    async run(ctx) {
      const s = await ops.status(ctx.ops, ctx.box.mailboxId, ctx.box.path);
      return { json: s, text: Object.entries(s).map(([k, v]) => `${k}: ${String(v)}`).join('\n') };
    },
  },
  folders: {
    summary: 'folders with counts',
    usage: 'folders',
    options: {},
    async run(ctx) {
      const f = await ops.listFolders(ctx.ops);
      return { json: { folders: f }, text: f.map((x) => `${x.id}  ${(x.role ?? '').padEnd(8)} ${x.name}  ${x.unread}/${x.total}`).join('\n') };
    },
  },
  list: {
    summary: 'messages, newest first',
    usage: 'list [--folder <name|role|id>] [--unread] [--limit N] [--offset N]',
    options: { folder: { type: 'string' }, unread: { type: 'boolean' }, limit: { type: 'string' }, offset: { type: 'string' } },
    async run(ctx) {
      const r = await ops.listMessages(ctx.ops, {
        ...(str(ctx.values.folder) ? { folder: str(ctx.values.folder) as string } : {}),
        unread: ctx.values.unread === true,
        limit: num(ctx.values.limit, 'limit', 20),
        offset: ctx.values.offset === undefined ? 0 : num(ctx.values.offset, 'offset', 0, 1e9),
      });
      return { json: r, text: r.messages.map(line).join('\n') };
    },
  },
  search: {
    summary: 'search the replica (from: to: subject: has:attachment is:unread in: before: after: "phrase" -not OR)',
    usage: 'search "<query>" [--limit N]',
    options: { limit: { type: 'string' } },
    async run(ctx) {
      const r = await ops.searchMessages(ctx.ops, ctx.args.join(' '), num(ctx.values.limit, 'limit', 20));
      return { json: r, text: r.messages.map(line).join('\n') };
    },
  },
  read: {
    summary: 'a message body (clean text; --html: sanitized HTML, needs jsdom)',
    usage: 'read <message-id> [--html]',
    options: { html: { type: 'boolean' } },
    async run(ctx) {
      const id = one(ctx.args, 'message id');
      const r = await ops.readMessage(ctx.ops, id, { html: ctx.values.html === true });
      return { json: r, text: `From: ${r.message.from}\nTo: ${r.message.to.join(', ')}\nSubject: ${r.message.subject}\nDate: ${r.message.received_at ?? ''}\n\n${r.body}` };
    },
  },
  thread: {
    summary: 'the messages of a thread (a thread id or one of its message ids)',
    usage: 'thread <thread-id|message-id>',
    options: {},
    async run(ctx) {
      const r = await ops.readThread(ctx.ops, one(ctx.args, 'thread or message id'));
      return { json: r, text: `${r.thread_id}  ${r.subject}\n${r.messages.map(line).join('\n')}` };
    },
  },
  mark: {
    summary: 'set read/unread, flag, labels',
    usage: 'mark <ids…> [--read|--unread] [--flag|--unflag] [--label x]… [--unlabel x]…',
    options: { read: { type: 'boolean' }, unread: { type: 'boolean' }, flag: { type: 'boolean' }, unflag: { type: 'boolean' }, label: { type: 'string', multiple: true }, unlabel: { type: 'string', multiple: true } },
    async run(ctx) {
      const patch = patchOf(ctx.values);
      const r = ensureOk(await ops.mark(ctx.ops, ctx.args, patch));
      return { json: r, text: mutationText(r) };
    },
  },
  move: {
    summary: 'move messages (the API can move only to Trash)',
    usage: 'move <ids…> --to <folder>',
    options: { to: { type: 'string' } },
    async run(ctx) {
      const to = str(ctx.values.to);
      if (!to) throw usageError('move needs --to <folder>, e.g. --to trash');
      if (ctx.args.length === 0) throw usageError('give at least one message id');
      const r = ensureOk(await ops.move(ctx.ops, ctx.args, to));
      return { json: r, text: mutationText(r) };
    },
  },
  archive: {
    summary: 'not available: the API has no folder move',
    usage: 'archive <ids…>',
    options: {},
    async run() {
      throw new CliError(ops.ARCHIVE_UNSUPPORTED, EXIT.failure, 'unsupported');
    },
  },
  trash: {
    summary: 'move messages to Trash',
    usage: 'trash <ids…>',
    options: {},
    async run(ctx) {
      const r = ensureOk(await ops.trash(ctx.ops, ctx.args));
      return { json: r, text: mutationText(r) };
    },
  },
  reply: {
    summary: 'write a reply as a local draft; --yes sends it',
    usage: 'reply <message-id> --text "…" [--all] [--yes]',
    options: { text: { type: 'string' }, all: { type: 'boolean' }, yes: { type: 'boolean' } },
    async run(ctx) {
      const id = one(ctx.args, 'message id');
      const text = str(ctx.values.text);
      if (text === undefined) throw usageError('reply needs --text "…"');
      const draft = await ops.draftReply(ctx.ops, id, { text, all: ctx.values.all === true });
      return sendOrKeep(ctx, draft.id);
    },
  },
  send: {
    summary: 'write a new message as a local draft (or name one with --draft); --yes sends it',
    usage: 'send (--to a@b … --subject "…" --text "…" | --draft <id>) [--yes]',
    options: { to: { type: 'string', multiple: true }, cc: { type: 'string', multiple: true }, subject: { type: 'string' }, text: { type: 'string' }, draft: { type: 'string' }, yes: { type: 'boolean' } },
    async run(ctx) {
      let id = str(ctx.values.draft);
      if (!id) {
        const d = await ops.draftNew(ctx.ops, { to: list(ctx.values.to), cc: list(ctx.values.cc), subject: str(ctx.values.subject) ?? '', text: str(ctx.values.text) ?? '' });
        id = d.id;
      }
      return sendOrKeep(ctx, id);
    },
  },
  drafts: {
    summary: 'local drafts',
    usage: 'drafts',
    options: {},
    async run(ctx) {
      const d = await ctx.box.sync.drafts.list();
      return { json: { drafts: d }, text: d.map((x) => `${x.id}  ${x.status.padEnd(6)} ${x.to.map((a) => a.email).join(', ')}  ${x.subject}`).join('\n') };
    },
  },
  changes: {
    summary: 'mail received since a cursor (without --since: the cursor of now)',
    usage: 'changes [--since <cursor>] [--limit N]',
    options: { since: { type: 'string' }, limit: { type: 'string' } },
    async run(ctx) {
      const r = await ops.whatsNew(ctx.ops, str(ctx.values.since), num(ctx.values.limit, 'limit', 50));
      return { json: r, text: `${r.messages.map(line).join('\n')}${r.messages.length ? '\n' : ''}cursor: ${r.cursor}${r.has_more ? ' (more)' : ''}` };
    },
  },
  log: {
    summary: 'the audit log: what was done through the CLI and MCP',
    usage: 'log [--limit N] [--after <seq>]',
    options: { limit: { type: 'string' }, after: { type: 'string' } },
    async run(ctx) {
      const after = ctx.values.after === undefined ? undefined : num(ctx.values.after, 'after', 1, 1e12);
      const entries = await ctx.box.sync.audit.list({ limit: num(ctx.values.limit, 'limit', 50), ...(after !== undefined ? { afterSeq: after } : {}) });
      return {
        json: { entries },
        text: entries.map((e) => `${e.seq ?? ''}  ${new Date(e.at).toISOString()}  ${e.actor}  ${e.action}  ${e.ids.join(',')}  ${e.outcome}${e.error ? `: ${e.error}` : ''}`).join('\n'),
      };
    },
  },
  mcp: {
    summary: 'serve the replica to an agent over MCP (stdio); --allow-send lets send_draft send',
    usage: 'mcp [--allow-send]',
    options: { 'allow-send': { type: 'boolean' } },
    bare: true,
    async run(ctx) {
      const { serveMcp } = await import('./mcp.js');
      await serveMcp(connectionFrom(process.env, ctx.dataDir), { allowSend: ctx.values['allow-send'] === true });
      return undefined;
    },
  },
};

function one(args: string[], what: string): string {
  if (args.length !== 1 || !args[0]) throw usageError(`give exactly one ${what}`);
  return args[0];
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'usage: sendmux-sync <command> [options]   (--json for JSON, --help on any command)',
    '',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`),
    '',
    'Options: --data-dir <dir> (default: the platform data folder), --json, --help',
    'Environment: SENDMUX_API_KEY (required), SENDMUX_BASE_URL',
    'Exit codes: 0 ok, 1 failure, 2 bad usage, 3 key refused or missing, 4 network',
  ].join('\n');
}

/** Runs the command line; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const json = rest.includes('--json') || argv.includes('--json');
  const fail = (e: CliError) => {
    process.stderr.write(`sendmux-sync: ${e.message}\n`);
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: e.code, message: e.message, exit_code: e.exitCode } })}\n`);
    return e.exitCode;
  };
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) return fail(usageError(`unknown command "${name}"; see sendmux-sync --help`));
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL, ...command.options }, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (error) {
    return fail(usageError(`${(error as Error).message.split('\n')[0] ?? 'bad arguments'}; usage: sendmux-sync ${command.usage}`));
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: sendmux-sync ${command.usage}\n  ${command.summary}\n  global: --json, --data-dir <dir>, --help\n`);
    return EXIT.ok;
  }
  const dataDir = str(parsed.values['data-dir']);
  let box: OpenMailbox | undefined;
  try {
    if (command.bare) {
      await command.run({ values: parsed.values, args: parsed.positionals, json, dataDir } as Ctx);
      return EXIT.ok;
    }
    const conn = connectionFrom(process.env, dataDir);
    const progress = name === 'sync' ? progressBar() : undefined;
    box = await openMailbox(conn, progress ? { onProgress: progress.update } : {});
    progress?.end();
    const out = await command.run({ values: parsed.values, args: parsed.positionals, json, box, ops: { sync: box.sync, actor: 'cli' }, dataDir });
    if (out) process.stdout.write(json ? `${JSON.stringify(out.json)}\n` : out.text ? `${out.text}\n` : '');
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CliError) return fail(error);
    const { cliErrorOf } = await import('./mailbox.js');
    return fail(cliErrorOf(error, process.env.SENDMUX_BASE_URL));
  } finally {
    await box?.close().catch(() => undefined);
  }
}

/** A progress bar on stderr (a line per 10% when stderr is not a terminal). */
function progressBar() {
  let lastTenth = -1;
  let shown = false;
  return {
    update(done: number, total: number | null) {
      shown = true;
      if (process.stderr.isTTY) {
        const width = 30;
        const f = total ? Math.min(1, done / total) : 0;
        process.stderr.write(`\r[${'#'.repeat(Math.round(f * width)).padEnd(width)}] ${done}/${total ?? '?'} messages`);
      } else {
        const tenth = total ? Math.floor((done / total) * 10) : -1;
        if (tenth !== lastTenth) {
          lastTenth = tenth;
          process.stderr.write(`synced ${done}/${total ?? '?'} messages\n`);
        }
      }
    },
    end() {
      if (shown && process.stderr.isTTY) process.stderr.write('\n');
    },
  };
}

