import { afterEach, describe, expect, it } from 'vitest';
import { engine, firstDiff, sim, type EngineHandle, type Simulator } from './helpers.js';

let s: Simulator | undefined;
let e: EngineHandle | undefined;
afterEach(async () => {
  await e?.sync.stop();
  await s?.close();
  e = undefined;
  s = undefined;
});

describe('bootstrap', () => {
  it('lists the mailbox and converges with the simulator', async () => {
    s = await sim({ messages: 150 });
    e = engine(s, { events: false, pageSize: 40 });
    await e.sync.start();
    const [local, remote] = await Promise.all([e.sync.snapshot(), s.snapshot()]);
    expect(firstDiff(local as never, remote as never)).toBeUndefined();
    expect(local).toEqual(remote);
  });
});
