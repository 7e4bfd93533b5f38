// Every test file runs with this setup: an unhandled promise rejection anywhere in
// the process fails the test during which it surfaced (issue 17: "no unhandled
// rejection anywhere"). Background failures belong on status$/errors$.
import { afterEach, beforeEach, expect } from 'vitest';

const seen: unknown[] = [];
process.on('unhandledRejection', (reason) => {
  seen.push(reason);
});

const describe = (reason: unknown): string =>
  reason instanceof Error ? `${reason.name}: ${reason.message}\n${reason.stack ?? ''}` : String(reason);

beforeEach(() => {
  seen.length = 0;
});

afterEach(async () => {
  // Rejections are reported after the microtask queue drains; give them a turn.
  await new Promise((resolve) => setImmediate(resolve));
  const found = seen.splice(0);
  expect(found.map(describe), 'unhandled promise rejections during this test').toEqual([]);
});
