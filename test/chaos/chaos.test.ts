// The bounded chaos subset that runs with `npm test`: a fixed list of seeds, 60 steps
// each (the full runner is `npm run chaos -- --seeds 200 --steps 300`). A failing
// seed prints its step list; replay it with `npm run chaos -- --seed N --steps 60`.
// Every schedule mixes remote actions, local actions (optimistic update/remove and
// sends from either of two tabs sharing one database) and faults.
import { beforeAll, describe, expect, it } from 'vitest';
import { FAULT_KINDS, describeFailure, runSchedule, summarize, type ScheduleResult } from './runner.js';

const STEPS = 60;
const SEEDS = Array.from({ length: 15 }, (_, i) => 101 + i);

describe('chaos: seeded fault-injection schedules converge', () => {
  const results = new Map<number, ScheduleResult>();

  // Schedules run one after another (they share the machine's two cores with the
  // simulator); each test below then judges one seed, and the last one the whole set.
  beforeAll(async () => {
    for (const seed of SEEDS) results.set(seed, await runSchedule({ seed, steps: STEPS, quiescenceMs: 20_000 }));
  }, 15 * 60_000);

  for (const seed of SEEDS) {
    it(`seed ${seed} (${STEPS} steps)`, () => {
      const result = results.get(seed);
      expect(result).toBeDefined();
      if (result?.failure) throw new Error(describeFailure(result));
      // The schedule really ran: steps were taken and the world converged.
      expect(result?.steps.length).toBeGreaterThan(STEPS);
      expect(Number.isFinite(result?.convergenceMs)).toBe(true);
    });
  }

  it('the subset exercised every fault kind, local mutations from both tabs, and sends', () => {
    const all = [...results.values()];
    const s = summarize(all);
    expect(s.schedules).toBe(SEEDS.length);
    for (const kind of FAULT_KINDS) expect(s.faults[kind], kind).toBeGreaterThan(0);
    expect(s.actions['local.update'] ?? 0).toBeGreaterThan(0);
    expect(s.actions['local.remove'] ?? 0).toBeGreaterThan(0);
    expect(s.actions['local.send'] ?? 0).toBeGreaterThan(0);
    const tabs = new Set(all.flatMap((r) => (r.local ?? []).map((a) => a.tab[0])));
    expect([...tabs].sort()).toEqual(['A', 'B']);
    expect(s.outcomes.applied ?? 0).toBeGreaterThan(0);
  });
});
