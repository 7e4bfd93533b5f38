// The "what is new since I last looked" cursor over the replica. A cursor names the
// newest received time an agent has seen and the ids received at exactly that time,
// so mail arriving later (or at the same millisecond) is new and nothing is shown
// twice. It is opaque text (`c1.` + base64url JSON) and local to this replica.

/** A decoded cursor: received time (ms) and the ids seen at that time. */
export interface NewsCursor {
  t: number;
  ids: string[];
}

const PREFIX = 'c1.';

export function encodeCursor(c: NewsCursor): string {
  return PREFIX + Buffer.from(JSON.stringify({ t: c.t, ids: c.ids })).toString('base64url');
}

/** Undefined when `text` is not a cursor this version wrote. */
export function decodeCursor(text: string): NewsCursor | undefined {
  if (!text.startsWith(PREFIX)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(text.slice(PREFIX.length), 'base64url').toString('utf8')) as unknown;
    if (!v || typeof v !== 'object') return undefined;
    const { t, ids } = v as { t?: unknown; ids?: unknown };
    if (typeof t !== 'number' || !Number.isFinite(t) || !Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) return undefined;
    return { t, ids: ids as string[] };
  } catch {
    return undefined;
  }
}

/** An offset cursor for the rest of a cut result (`o1.<n>`). */
export function encodeOffset(n: number): string {
  return `o1.${n}`;
}

export function decodeOffset(text: string | undefined): number | undefined {
  if (text === undefined) return 0;
  const m = /^o1\.(\d+)$/.exec(text);
  return m ? Number(m[1]) : undefined;
}
