// Issue 19, point 4: keyword names are data. `constructor`, `__proto__` and friends
// are keywords like any other on every path — update() input, the outbox, the
// optimistic reducer, records from the server — never prototype lookups.
import { afterEach, describe, expect, it } from 'vitest';
import type { components } from '../../src/api/schema.js';
import { applyPatch } from '../../src/store/pending.js';
import { canonicalPatch } from '../../src/store/outbox.js';
import { converge, sim, wire, type Simulator, type Wired } from './helpers.js';

type Message = components['schemas']['MailboxMessageSummary'];

let s: Simulator | undefined;
const engines: Wired[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop();
  await s?.close();
  s = undefined;
});

const base = { flags: { seen: false, flagged: false, draft: false, answered: false }, keywords: [] as string[] } as unknown as Message;

describe('keyword names are data (issue 19)', () => {
  it('applyPatch with keyword "constructor" sets the keyword and writes no stray flag', () => {
    const out = applyPatch(base, { keywords: { constructor: true, tostring: true } });
    expect(out.keywords).toEqual(['constructor', 'tostring']);
    expect(Object.keys(out.flags).sort()).toEqual(['answered', 'draft', 'flagged', 'seen']);
  });

  it('a keyword named __proto__ survives the canonical patch and the reducer', () => {
    const patch = canonicalPatch({ keywords: JSON.parse('{"__proto__":true}') as Record<string, boolean> });
    expect(Object.keys(patch.keywords ?? {})).toEqual(['__proto__']);
    expect(applyPatch(base, patch).keywords).toEqual(['__proto__']);
  });

  it('update() with keywords constructor and __proto__ reaches the server and the replica converges', async () => {
    s = await sim({ messages: 20 });
    const w = wire(s);
    engines.push(w);
    await w.sync.start();
    const id = (await s.snapshot()).messages[0]?.id ?? '';
    expect(await w.update([id], { keywords: { constructor: true } })).toEqual([expect.objectContaining({ id, status: 'applied' })]);
    // A computed (own) key: the literal `{ __proto__: true }` would set the prototype instead.
    expect(await w.update([id], { keywords: { ['__proto__']: true } })).toEqual([expect.objectContaining({ id, status: 'applied' })]);
    const server = (await s.snapshot()).messages.find((m) => m.id === id);
    expect(server?.keywords).toEqual(expect.arrayContaining(['constructor', '__proto__']));
    await converge(w, s);
    const local = (await w.sync.snapshot()).messages.find((m) => m.id === id);
    expect(Object.keys(local?.flags ?? {}).sort()).toEqual(['answered', 'draft', 'flagged', 'seen']);
  });
});
