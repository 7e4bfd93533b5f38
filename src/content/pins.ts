// Reference counts of messages whose cached content must not be evicted: what a
// visible view shows (each content$/rawBody$ subscription holds a pin) and what a
// pending send needs. Pins live in memory: they describe this tab's screen.

/** Reference-counted set of pinned message ids. */
export class PinSet {
  readonly #counts = new Map<string, number>();

  /** Adds one reference to each id. */
  pin(ids: Iterable<string>): void {
    for (const id of ids) this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
  }

  /** Drops one reference from each id; an id with no references left is unpinned. */
  unpin(ids: Iterable<string>): void {
    for (const id of ids) {
      const n = (this.#counts.get(id) ?? 0) - 1;
      if (n > 0) this.#counts.set(id, n);
      else this.#counts.delete(id);
    }
  }

  /** Whether `id` has at least one reference. */
  has(id: string): boolean {
    return this.#counts.has(id);
  }

  /** Currently pinned ids. */
  ids(): string[] {
    return [...this.#counts.keys()];
  }
}
