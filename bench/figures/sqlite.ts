// The SQLite storage backend (sqliteStorage({ path }), `sendmux-sync/sqlite`) beside
// fake-indexeddb, in Node: bootstrap of an N-message mailbox against the raw floor
// (plain-fetch listing + raw better-sqlite3 inserts), a restart on the synced file
// (time and requests), process RSS after the bootstrap, and local search latency.
// Every engine and the raw floor run in a child process of their own (lib/child.ts):
// RSS is then one backend's, and a restart is a new process on the file. The
// simulator stays in this process and is shared with the other figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '../../src/api/index.js';
import { folderResolver } from '../../src/reactive/search.js';
import { matchMessage, parseSearch } from '../../src/store/searchSyntax.js';
import type { Backend, EngineReport, EngineTask, RawReport, RawTask } from '../engine/storage-child.js';
import { runChild } from '../lib/child.js';
import type { BenchContext, FigureDef } from '../lib/context.js';
import { loadSqliteStorage, needParts } from '../lib/parts.js';
import type { Simulator } from '../lib/parts.js';
import type { FigureResult } from '../lib/report.js';
import { target, unavailable, value } from '../lib/report.js';
import { summarize } from '../lib/stats.js';

const CHILD = new URL('../engine/storage-child.ts', import.meta.url);
const MB = 2 ** 20;

const KEYS = {
  bootstrapSqlite: 'bootstrap_100k_sqlite',
  restartSqlite: 'restart_100k_sqlite',
  bootstrapIdb: 'bootstrap_100k_fake_indexeddb',
  restartIdb: 'restart_100k_fake_indexeddb',
  rss: 'rss_100k',
  search: 'search_100k',
} as const;

const DESCRIPTIONS: Record<string, string> = {
  [KEYS.bootstrapSqlite]: 'Engine bootstrap (start() until caught up) on sqliteStorage, vs raw floor: plain-fetch listing of every page + raw better-sqlite3 insert (one transaction per page), same run',
  [KEYS.restartSqlite]: 'A new engine in a new process on the synced SQLite file: createMailboxSync → start() resolved, and the HTTP requests it made',
  [KEYS.bootstrapIdb]: 'Engine bootstrap (start() until caught up) on fake-indexeddb, beside the SQLite bootstrap of the same run',
  [KEYS.restartIdb]: 'Restart on fake-indexeddb: a new process has an empty in-memory replica, so this is a full re-bootstrap (createMailboxSync → start())',
  [KEYS.rss]: 'process.memoryUsage().rss of a child process right after start() resolved on the bootstrap, per backend',
  [KEYS.search]: 'Local search: first emission of search$(q, { server: false }) over the replica, p50/p99 over typical mail queries, per backend',
};

/**
 * Typical mail searches, each with hits in the generated corpus (src/sim/corpus.ts:
 * topics, the cast's first names, service senders, subject templates; folders of
 * src/sim/generator.ts; dates 2023–2025).
 */
export const SEARCH_QUERIES: readonly string[] = [
  'invoice',
  'from:ada',
  'is:unread budget',
  '"quarterly report"',
  'has:attachment',
  'in:projects launch',
  '-newsletter update',
  'subject:question OR subject:reminder',
  'after:2025-06-01 invoice',
  'before:2024-01-01 contract',
  'from:hopper is:unread',
  'in:archive "design review"',
  'is:flagged',
  'from:stripe',
  'security audit',
  '"release notes" has:attachment',
  'in:inbox roadmap',
  'pricing OR partnership',
  'onboarding after:2025-01-01 before:2025-07-01',
  'to:lovelace',
];

/** Child runs by backend across repetitions. */
interface Runs {
  raw: RawReport[];
  bootstrap: Record<Backend, EngineReport[]>;
  restart: Record<Backend, EngineReport[]>;
}

/** search$'s default limit: at most this many local hits are shown. */
const SEARCH_LIMIT = 50;

/**
 * The hits a complete local search would show for each query: min(limit, matches
 * among every message of the simulator's mailbox), by the record alone (a fresh
 * replica caches no bodies).
 */
async function expectedHits(sim: Simulator): Promise<Map<string, number>> {
  const snap = await sim.snapshot();
  const messages = snap.messages as Message[];
  const folderIds = folderResolver(snap.folders);
  return new Map(
    SEARCH_QUERIES.map((q) => {
      const query = parseSearch(q);
      let matches = 0;
      for (const m of messages) if (matchMessage(query, m, { folderIds })) matches++;
      return [q, Math.min(SEARCH_LIMIT, matches)];
    }),
  );
}

const seconds = (reports: readonly { ms: number }[]) => summarize(reports.map((r) => r.ms / 1000), 's');
const maxOf = (xs: readonly number[]) => Math.max(...xs);

function routesOf(reports: readonly EngineReport[], baseUrl: string): string {
  const base = new URL(baseUrl).pathname;
  const last = reports.at(-1);
  if (!last) return '';
  return Object.entries(last.byPath)
    .map(([route, n]) => `${route.replace(` ${base}`, ' ')} ×${n}`)
    .join(', ');
}

async function measure(ctx: BenchContext, sim: Simulator, n: number, dir: string): Promise<Runs> {
  const reps = ctx.reps(2, 2);
  const restarts = ctx.reps(3, 2);
  const timeoutMs = ctx.quick ? 10 * 60_000 : 60 * 60_000;
  const child = <R>(task: RawTask | EngineTask) => runChild<R>(CHILD, task, { log: ctx.log, timeoutMs });
  const target = { url: sim.url, apiKey: sim.apiKey, messages: n };
  const runs: Runs = { raw: [], bootstrap: { sqlite: [], 'fake-indexeddb': [] }, restart: { sqlite: [], 'fake-indexeddb': [] } };
  for (let i = 0; i < reps; i++) {
    ctx.log(`  rep ${i + 1}/${reps}`);
    const rawPath = join(dir, `raw-${i}.sqlite`);
    const raw = await child<RawReport>({ kind: 'raw', ...target, path: rawPath, indexedPath: join(dir, `raw-indexed-${i}.sqlite`) });
    runs.raw.push(raw);
    ctx.log(
      `  raw: list ${(raw.listMs / 1000).toFixed(2)} s (${raw.requests} requests) + insert ${(raw.insertMs / 1000).toFixed(2)} s (with the replica's secondary rows: ${(raw.insertIndexedMs / 1000).toFixed(2)} s)`,
    );
    const path = join(dir, `replica-${i}.sqlite`);
    const engine = (backend: Backend, kind: EngineTask['kind'], queries: readonly string[] = []) => child<EngineReport>({ kind, backend, ...target, path, queries });
    runs.bootstrap.sqlite.push(await engine('sqlite', 'bootstrap'));
    runs.bootstrap['fake-indexeddb'].push(await engine('fake-indexeddb', 'bootstrap'));
    for (let k = 0; k < restarts; k++) runs.restart.sqlite.push(await engine('sqlite', 'restart', SEARCH_QUERIES));
    runs.restart['fake-indexeddb'].push(await engine('fake-indexeddb', 'restart', SEARCH_QUERIES));
    for (const p of [rawPath, path]) for (const suffix of ['', '-wal', '-shm']) rmSync(p + suffix, { force: true });
  }
  return runs;
}

export const sqliteFigure: FigureDef = {
  keys: Object.values(KEYS),
  async run(ctx) {
    const missing = (reason: string) => Object.values(KEYS).map((k) => unavailable(k, 'node', DESCRIPTIONS[k] ?? '', reason));
    const parts = await needParts(ctx, { engine: true });
    if (typeof parts === 'string') return missing(parts);
    const storage = await loadSqliteStorage();
    if (typeof storage === 'string') return missing(storage);
    const n = ctx.size(100_000, 5_000);
    // Read-only use: the same simulator as bootstrap_100k and folder_page_ms.
    const sim = await parts.sims.get({ seed: ctx.seed, messages: n, rateLimitPerMinute: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'sendmux-bench-sqlite-'));
    let runs: Runs;
    try {
      runs = await measure(ctx, sim, n, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const quickNote = n !== 100_000 ? [`--quick: ${n} messages instead of 100k, fewer repetitions.`] : [];
    const common = 'Node, simulator on loopback in the parent process (rate limiting off), engine in a child process (node --import tsx) of its own, leader: "always", events on, default page size (the session\'s list_limit_max, 100).';

    const engineS = seconds(runs.bootstrap.sqlite);
    const indexedS = summarize(runs.bootstrap.sqlite.map((r) => (r.indexedMs ?? Number.NaN) / 1000), 's');
    const listS = summarize(runs.raw.map((r) => r.listMs / 1000), 's');
    const insertS = summarize(runs.raw.map((r) => r.insertMs / 1000), 's');
    const floorS = summarize(runs.raw.map((r) => (r.listMs + r.insertMs) / 1000), 's');
    const ratio = engineS.median / floorS.median;
    const insertIndexedS = summarize(runs.raw.map((r) => r.insertIndexedMs / 1000), 's');
    const floorIndexedS = summarize(runs.raw.map((r) => (r.listMs + r.insertIndexedMs) / 1000), 's');
    const ratioIndexed = engineS.median / floorIndexedS.median;
    const raw = runs.raw.at(-1)!;
    const idbS = seconds(runs.bootstrap['fake-indexeddb']);

    const restartS = seconds(runs.restart.sqlite);
    const restartRequests = maxOf(runs.restart.sqlite.map((r) => r.requests));
    const idbRestartS = seconds(runs.restart['fake-indexeddb']);

    const rssOf = (b: Backend) => runs.bootstrap[b].map((r) => r.memory);
    const sqliteRss = summarize(rssOf('sqlite').map((m) => m.rssMb), 'MB');
    const idbRss = summarize(rssOf('fake-indexeddb').map((m) => m.rssMb), 'MB');

    const searchOf = (b: Backend) => runs.restart[b].flatMap((r) => r.search);
    const searchSummary = (b: Backend) => summarize(searchOf(b).map((s) => s.ms), 'ms', true);
    const perQuery = (b: Backend) =>
      SEARCH_QUERIES.map((q) => {
        const samples = searchOf(b).filter((s) => s.query === q);
        const ms = summarize(samples.map((s) => s.ms), 'ms').median;
        return `${q} → ${samples[0]?.hits ?? 0} hits, ${ms} ms`;
      }).join('; ');
    const expected = await expectedHits(sim);
    const short = (b: Backend) =>
      SEARCH_QUERIES.flatMap((q) => {
        const want = expected.get(q) ?? 0;
        const got = Math.min(...searchOf(b).filter((s) => s.query === q).map((s) => s.hits));
        return got < want ? [`${q} (${got} of ${want})`] : [];
      });
    const sqliteSearch = searchSummary('sqlite');
    const idbSearch = searchSummary('fake-indexeddb');

    const results: FigureResult[] = [
      {
        key: KEYS.bootstrapSqlite,
        status: 'ok',
        env: 'node',
        description: DESCRIPTIONS[KEYS.bootstrapSqlite]!,
        metrics: {
          engine_bootstrap_s: engineS,
          fts_ready_s: indexedS,
          raw_listing_s: listS,
          raw_insert_s: insertS,
          raw_total_s: floorS,
          ratio: value('x', ratio),
          raw_insert_indexed_s: insertIndexedS,
          raw_total_indexed_s: floorIndexedS,
          ratio_indexed: value('x', ratioIndexed),
          engine_requests: value('count', maxOf(runs.bootstrap.sqlite.map((r) => r.requests))),
          raw_requests: value('count', raw.requests),
          messages: value('count', n),
        },
        targets: [target('ratio', '<=', 1.3, ratio, 'engine / (raw listing + raw insert), medians')],
        notes: [
          ...quickNote,
          common,
          `Engine time is start() until it resolves (caught up once) on a new file. The raw floor, in its own child process, lists every page (limit 100) of folders, messages, threads, identities, submissions and quotas sequentially with plain fetch and JSON.parse (${raw.requests} requests, ${(raw.bytes / MB).toFixed(1)} MiB), then inserts the records with better-sqlite3 into a (id TEXT PRIMARY KEY, json TEXT) table per type: one prepared INSERT, one transaction per page of 100, JSON text, WAL + synchronous=NORMAL as the engine's file. It writes no secondary index, which the engine's replica must.`,
          `raw_insert_indexed_s writes the same listing into a new file with the secondary rows the replica keeps for its queries, in a schema written by hand for them (bench/lib/raw-client.ts rawSqliteInsertIndexed): messages by thread; a clustered (folder, received time, id) row per folder of a message and one for all mail, with partial unread and flagged indexes; threads by last message time and a (folder, thread) row per folder; each message id queued for full-text indexing. ratio_indexed = engine / (raw listing + that insert): the engine against what the platform needs for the same rows, without the engine's generic key-value layer, the overlay and the sync's bookkeeping. Reported beside the target, which stays the issue's plain floor.`,
          'fts_ready_s: start() until the full-text index holds every message (sqliteStorage.whenIndexed()). A bootstrap queues its messages for the index and the filler indexes them once its writes stop; until then search$ answers by scanning the replica. search_100k is timed in the restarts, on a complete index.',
        ],
      },
      {
        key: KEYS.restartSqlite,
        status: 'ok',
        env: 'node',
        description: DESCRIPTIONS[KEYS.restartSqlite]!,
        metrics: { restart_s: restartS, requests: value('count', restartRequests) },
        targets: [target('restart_s', '<=', 1, restartS.median, 'median'), target('requests', '<=', 3, restartRequests, 'most of any restart')],
        notes: [
          ...quickNote,
          `${runs.restart.sqlite.length / runs.bootstrap.sqlite.length} restarts after each bootstrap, each a new child process on the file the bootstrap (or the previous restart) stopped; timed from createMailboxSync (modules already loaded) until start() resolves. Requests counted by the engine's fetch until then; last restart's routes: ${routesOf(runs.restart.sqlite, sim.url)}.`,
        ],
      },
      {
        key: KEYS.bootstrapIdb,
        status: 'ok',
        env: 'node',
        description: DESCRIPTIONS[KEYS.bootstrapIdb]!,
        metrics: {
          engine_bootstrap_s: idbS,
          vs_sqlite: value('x', idbS.median / engineS.median),
          vs_sqlite_raw_floor: value('x', idbS.median / floorS.median),
          engine_requests: value('count', maxOf(runs.bootstrap['fake-indexeddb'].map((r) => r.requests))),
        },
        targets: [],
        notes: [...quickNote, common, `vs_sqlite = this / ${KEYS.bootstrapSqlite} engine time (medians, same run); its own raw Dexie floor is bootstrap_ratio.`],
      },
      {
        key: KEYS.restartIdb,
        status: 'ok',
        env: 'node',
        description: DESCRIPTIONS[KEYS.restartIdb]!,
        metrics: {
          restart_s: idbRestartS,
          requests: value('count', maxOf(runs.restart['fake-indexeddb'].map((r) => r.requests))),
          vs_sqlite_restart: value('x', idbRestartS.median / restartS.median),
        },
        targets: [],
        notes: [...quickNote, 'fake-indexeddb keeps the replica in memory: a new process starts from an empty one, so a restart is a full re-bootstrap. Timed from createMailboxSync until start() resolves.'],
      },
      {
        key: KEYS.rss,
        status: 'ok',
        env: 'node',
        description: DESCRIPTIONS[KEYS.rss]!,
        metrics: {
          sqlite_rss_mb: sqliteRss,
          sqlite_peak_rss_mb: summarize(rssOf('sqlite').map((m) => m.maxRssMb), 'MB'),
          sqlite_heap_used_mb: summarize(rssOf('sqlite').map((m) => m.heapUsedMb), 'MB'),
          fake_indexeddb_rss_mb: idbRss,
          fake_indexeddb_peak_rss_mb: summarize(rssOf('fake-indexeddb').map((m) => m.maxRssMb), 'MB'),
          fake_indexeddb_heap_used_mb: summarize(rssOf('fake-indexeddb').map((m) => m.heapUsedMb), 'MB'),
          baseline_rss_mb: summarize([...rssOf('sqlite'), ...rssOf('fake-indexeddb')].map((m) => m.rssBeforeMb), 'MB'),
        },
        targets: [target('sqlite_rss_mb', '<=', 200, sqliteRss.median, 'median, after the SQLite bootstrap')],
        notes: [
          ...quickNote,
          'Each bootstrap runs in its own child process; rss is read right after start() resolved (engine still live, no forced GC), peak is getrusage maxrss over the process so far. baseline is the same processes after loading the engine and tsx, before createMailboxSync. The simulator is in the parent and not counted.',
        ],
      },
      {
        key: KEYS.search,
        status: 'ok',
        env: 'node',
        description: DESCRIPTIONS[KEYS.search]!,
        metrics: {
          sqlite_ms: sqliteSearch,
          fake_indexeddb_ms: idbSearch,
          queries: value('count', SEARCH_QUERIES.length),
          sqlite_short_queries: value('count', short('sqlite').length),
          fake_indexeddb_short_queries: value('count', short('fake-indexeddb').length),
        },
        targets: [
          target('sqlite_ms p50', '<=', 10, sqliteSearch.p50, 'SQLite (FTS5 behind search$)'),
          target('sqlite_ms p99', '<=', 50, sqliteSearch.p99, 'SQLite (FTS5 behind search$)'),
        ],
        notes: [
          ...quickNote,
          `${SEARCH_QUERIES.length} queries, run once each in every restart process right after start() resolved (SQLite: ${runs.restart.sqlite.length} processes, fake-indexeddb: ${runs.restart['fake-indexeddb'].length}), in order, so the first pays the process's cold code paths; p50/p99 over all those samples. Timed from the search$ call to its first emission (limit 50; the local scan reads at most the newest 5,000 messages unless a storage backend answers search itself).`,
          `*_short_queries: queries that showed fewer local hits than a complete search would (min(${SEARCH_LIMIT}, the messages of the whole mailbox whose record matches)), e.g. because the matches lie beyond the scan window. SQLite: ${short('sqlite').join(', ') || 'none'}. fake-indexeddb: ${short('fake-indexeddb').join(', ') || 'none'}.`,
          `SQLite by query (hits, median): ${perQuery('sqlite')}.`,
          `fake-indexeddb by query (hits, median): ${perQuery('fake-indexeddb')}.`,
        ],
      },
    ];
    return results;
  },
};
