// Simulator helper for tests.
//
//   import { withSim, api } from '../helpers/sim.js';
//   const sim = await withSim({ messages: 200 });   // started on 127.0.0.1:0
//   const res = await api(sim, 'GET', '/mailbox/session');   // { status, headers, body }
//
// Every simulator started with withSim() is closed after the test file (afterAll).
// Defaults: seed 1, 200 messages, responses validated against the spec when the spec
// is available (any violation fails loudly as a 500 and in sim.validationFailures()).
import { afterAll } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';
import { specAvailable } from './spec.js';

const open = new Set<Simulator>();

afterAll(async () => {
  await Promise.all([...open].map((s) => s.close()));
  open.clear();
});

/** Starts a simulator that is closed automatically after the test file. */
export async function withSim(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ messages: 200, validateResponses: specAvailable, ...options });
  open.add(sim);
  const close = sim.close;
  return { ...sim, close: async () => { open.delete(sim); await close(); } };
}

/** The API envelope, success or error (docs/errors.md). */
export interface Envelope<D = unknown> {
  ok: boolean;
  data: D;
  pagination?: { has_more: boolean; next_cursor?: string };
  meta: { request_id: string; [k: string]: unknown };
  error?: { code: string; message: string; param?: string; retryable: boolean; errors?: Array<{ field: string; code: string; message: string }> };
}

export interface SimResponse<T = Envelope> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty body (304). */
  body: T;
}

/** One authenticated JSON call against the simulator (`path` relative to sim.url). */
export async function api<T = Envelope>(sim: Simulator, method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<SimResponse<T>> {
  const headers: Record<string, string> = { Authorization: `Bearer ${sim.apiKey}`, ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(sim.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text === '' ? undefined : JSON.parse(text)) as T };
}
