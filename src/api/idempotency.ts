// docs/idempotency.md: one key per logical action (1–255 chars), reused on every
// retry of that action, never regenerated per attempt. A UUID v4 is unique enough.

/**
 * A fresh Idempotency-Key (UUID v4). Uses `crypto.randomUUID` unless `random`
 * (returning floats in [0, 1)) is given, e.g. a seeded generator in tests.
 */
export function newIdempotencyKey(random?: () => number): string {
  if (!random && typeof globalThis.crypto?.randomUUID === 'function') return globalThis.crypto.randomUUID();
  const rnd = random ?? Math.random;
  const bytes = Array.from({ length: 16 }, () => Math.floor(rnd() * 256) & 0xff);
  // RFC 9562 §5.4: version 4, variant 10xx.
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
