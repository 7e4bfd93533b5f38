// The run's shared data: message summaries from the simulator's seeded generator,
// so the peers, the engine's store and the simulator all see the same records.
import type { Message } from '../peers/shape.js';

const cache = new Map<string, Message[]>();

/** `n` generated message summaries for `seed` (newest first, as the API lists them). */
export async function generatedMessages(seed: number, n: number): Promise<Message[]> {
  const key = `${seed}:${n}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const { generateMailbox } = await import('../../src/sim/generator.js');
  const g = generateMailbox({ seed, messages: n });
  const out = g.messages.map((m) => m.summary).sort((a, b) => (b.received_at ?? '').localeCompare(a.received_at ?? '') || (a.id < b.id ? 1 : -1));
  cache.set(key, out);
  return out;
}
