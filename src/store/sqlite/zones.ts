// Dexie's zones (its async context), as the SQLite backend's requests settle in them.
import { Dexie } from 'dexie';

/** Dexie's zone API (present on Dexie.Promise, not in its type declarations). */
interface Zones {
  readonly PSD: unknown;
  usePSD<A, R>(zone: unknown, fn: (arg: A) => R, arg: A): R;
}
const zones = Dexie.Promise as unknown as Zones;

/**
 * Calls `fn(arg)` in the Dexie zone that was current when `zone` was captured, as
 * Dexie's IndexedDB core does for request callbacks: a result delivered after another
 * transaction's turn must resume its caller's transaction and live query, not
 * whatever zone the event loop is in.
 */
export function inZone<A, R>(zone: unknown, fn: (arg: A) => R, arg: A): R {
  return zones.usePSD(zone, fn, arg);
}

/** The current Dexie zone. */
export function currentZone(): unknown {
  return zones.PSD;
}
