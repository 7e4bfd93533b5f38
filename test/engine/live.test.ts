// The engine left running (SSE + fast polling) while the world changes and the
// network misbehaves at random; once the faults stop it must converge on its own.
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncError } from '../../src/sync/errors.js';
import { engine, firstDiff, randomRemoteChanges, rng, sim, type EngineHandle, type Simulator } from './helpers.js';

let s: Simulator | undefined;
let e: EngineHandle | undefined;
afterEach(async () => {
  await e?.sync.stop();
  await s?.close();
  e = undefined;
  s = undefined;
});

const PATHS = ['/mailbox/changes', '/mailbox/messages:batch-get', '/mailbox/threads', '/mailbox/folders', '/mailbox/messages'];

describe('live engine under random faults', () => {
  for (const seed of [101, 202]) {
    it(`converges by itself after concurrent remote changes and faults (seed ${seed})`, async () => {
      s = await sim({ messages: 80, seed, pingIntervalMs: 1000 });
      const inflight = new Map<number, string>();
      let reqN = 0;
      const tracking: typeof fetch = async (input, init) => {
        const n = reqN++;
        inflight.set(n, `${init?.method ?? 'GET'} ${String(input instanceof Request ? input.url : input)}`);
        try {
          return await fetch(input, init);
        } finally {
          inflight.delete(n);
        }
      };
      e = engine(s, { fetch: tracking, pageSize: 25, poll: { visibleMs: 40, hiddenMs: 40, offlineBackoff: { baseMs: 20, maxMs: 100 } }, pushRetryMs: 100 });
      const errors: SyncError[] = [];
      e.sync.errors$.subscribe((x) => errors.push(x));
      await e.sync.start();
      const r = rng(seed);
      const log: string[] = [];
      for (let step = 0; step < 40; step++) {
        log.push(...(await randomRemoteChanges(s, r, 1)));
        const roll = r();
        const path = PATHS[Math.floor(r() * PATHS.length)] as string;
        if (roll < 0.12) {
          const status = [429, 500, 503][Math.floor(r() * 3)] as number;
          // A 429 carries Retry-After (without one the client waits for X-RateLimit-Reset, up to a minute).
          await s.control.failNext({ count: 1 + Math.floor(r() * 3), status, path, ...(status === 429 ? { retryAfterSeconds: 1 } : {}) });
          log.push(`failNext ${status} ${path}`);
        } else if (roll < 0.2) {
          await s.control.dropNextResponses({ count: 1, path });
          log.push(`drop ${path}`);
        } else if (roll < 0.26) {
          await s.control.cutEventStreams();
          log.push('cut SSE');
        } else if (roll < 0.29) {
          await s.control.expireChangeLog();
          log.push('expire change log');
        }
        await new Promise((res) => setTimeout(res, Math.floor(r() * 30)));
      }
      await s.control.failNext({ count: 0, status: 500 });
      // No more faults: the running engine (poll every 40 ms) must catch up by itself.
      let diff: string | undefined = 'not compared yet';
      const deadline = Date.now() + 20_000;
      while (diff && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 100));
        diff = firstDiff((await e.sync.snapshot()) as never, (await s.snapshot()) as never);
      }
      if (diff) {
        const local = new Set((await e.sync.snapshot()).messages.map((m) => m.id));
        const remote = new Set((await s.snapshot()).messages.map((m) => m.id));
        const extra = [...local].filter((id) => !remote.has(id));
        const missing = [...remote].filter((id) => !local.has(id));
        s.resetStats();
        await new Promise((res) => setTimeout(res, 1000));
        const st = await new Promise((res) => e?.sync.status$.subscribe((v) => res(v)).unsubscribe());
        throw new Error(`INFLIGHT ${[...inflight.values()].join(' ; ')} STATS ${JSON.stringify(s.stats().byPath)} STATUS ${JSON.stringify(st)} ERRORS ${errors.slice(-5).map((x) => x.code + ':' + x.message).join(' | ')}\nseed ${seed}: not converged: ${diff}\nextra ${extra.join(',')} missing ${missing.join(',')}\n${log.join('\n')}`);
      }
      expect(errors.filter((x) => x.code === 'protocol_error' || x.code === 'storage_failed')).toEqual([]);
    });
  }
});
