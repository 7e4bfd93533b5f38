// Seeded random interleavings of local mutations and remote changes ("another
// device"): every call settles with a typed outcome, and once the outbox is empty
// and the server quiet, the replica equals the simulator (DESIGN.md invariant 6).
import { afterEach, describe, expect, it } from 'vitest';
import type { MutationOutcome } from '../../src/reactive/mutations.js';
import { converge, sim, until, wire, type Simulator, type Wired } from './helpers.js';
import { mulberry32 } from '../../src/sim/random.js';

let s: Simulator | undefined;
let w: Wired | undefined;
afterEach(async () => {
  await w?.stop();
  await s?.close();
  w = undefined;
  s = undefined;
});

/** Seeded PRNG (mulberry32). */
const rng = mulberry32;

describe('local mutations interleaved with remote changes', () => {
  for (const seed of [101, 202, 303]) {
    it(`converge with every call settled (seed ${seed})`, async () => {
      const r = rng(seed);
      s = await sim({ seed, messages: 80 });
      w = wire(s);
      await w.sync.start();
      const ids = (await s.snapshot()).messages.map((m) => m.id);
      const some = () => [...new Set(Array.from({ length: 1 + Math.floor(r() * 3) }, () => ids[Math.floor(r() * ids.length)] as string))];
      const patch = () => {
        const p = { ...(r() < 0.5 ? { seen: r() < 0.5 } : {}), ...(r() < 0.4 ? { flagged: r() < 0.5 } : {}), ...(r() < 0.3 ? { keywords: { [`k${Math.floor(r() * 3)}`]: r() < 0.6 } } : {}) };
        return Object.keys(p).length > 0 ? p : { seen: true };
      };
      const log: string[] = [];
      const calls: Promise<MutationOutcome[]>[] = [];
      for (let i = 0; i < 30; i++) {
        const roll = r();
        const target = some();
        if (roll < 0.35) {
          const p = patch();
          log.push(`update ${target.join(',')} ${JSON.stringify(p)}`);
          calls.push(w.update(target, p));
        } else if (roll < 0.45) {
          const permanent = r() < 0.3;
          log.push(`remove ${target.join(',')} permanent=${String(permanent)}`);
          calls.push(w.remove(target, { permanent }));
        } else if (roll < 0.75) {
          const p = patch();
          log.push(`remote setFlags ${target.join(',')} ${JSON.stringify(p)}`);
          await s.control.setFlags(target, p);
        } else if (roll < 0.85) {
          log.push(`remote trash ${target.join(',')}`);
          await s.control.trash(target);
        } else if (roll < 0.9) {
          log.push(`remote destroy ${target.join(',')}`);
          await s.control.destroy(target);
        } else {
          const { id } = await s.control.deliver({ subject: `seed ${seed} #${i}`, text: 'hello' });
          log.push(`remote deliver ${id}`);
        }
        if (r() < 0.3) await new Promise((res) => setTimeout(res, Math.floor(r() * 20)));
      }
      const outcomes = (await Promise.all(calls)).flat();
      const context = `seed ${seed}:\n${log.join('\n')}`;
      // Default policy: rebase, then force; only messages destroyed meanwhile roll back.
      for (const o of outcomes) {
        expect(['applied', 'rebased', 'rolled_back'], context).toContain(o.status);
        if (o.status === 'rolled_back') expect(o.reason, context).toBe('not_found');
      }
      // The remote changes moved the state under in-flight writes: conflicts were rebased.
      expect(outcomes.some((o) => o.status === 'rebased'), context).toBe(true);
      await until(w.sync.status$, (st) => st.pendingMutations === 0, 5000);
      try {
        await converge(w, s);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${context}`, { cause: error });
      }
    });
  }
});
