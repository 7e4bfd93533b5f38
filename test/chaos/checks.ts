// The invariants a healed, quiet world must satisfy (issue 10 "checks").
import { isDeepStrictEqual } from 'node:util';
import type { MailboxApi } from '../../src/api/index.js';
import type { ReplicaSnapshot } from '../../src/index.js';
import type { SimSnapshot } from '../../src/sim/index.js';
import { SYNC_TYPES, type StateTokens } from '../../src/store/apply.js';

type Snap = ReplicaSnapshot | SimSnapshot;

/** The first difference between two snapshots, or undefined when deep-equal. */
export function snapshotDiff(local: Snap, remote: Snap): string | undefined {
  if (isDeepStrictEqual(local, remote)) return undefined;
  const l = local as unknown as Record<string, { id: string }[]>;
  const r = remote as unknown as Record<string, { id: string }[]>;
  for (const key of new Set([...Object.keys(l), ...Object.keys(r)])) {
    const a = l[key] ?? [];
    const b = r[key] ?? [];
    const aIds = new Set(a.map((x) => x.id));
    const bIds = new Set(b.map((x) => x.id));
    const extra = [...aIds].filter((id) => !bIds.has(id));
    const missing = [...bIds].filter((id) => !aIds.has(id));
    if (extra.length > 0 || missing.length > 0) {
      return `${key}: local has ${extra.length} extra [${extra.slice(0, 5).join(', ')}], misses ${missing.length} [${missing.slice(0, 5).join(', ')}]`;
    }
    for (let i = 0; i < b.length; i++) {
      if (!isDeepStrictEqual(a[i], b[i])) {
        return `${key} ${b[i]?.id}: fields differ\n  local  ${JSON.stringify(a[i])}\n  server ${JSON.stringify(b[i])}`;
      }
    }
  }
  return 'snapshots differ (shape)';
}

/**
 * Tokens are consistent with data when a changes pull from the replica's stored
 * tokens, against a quiet server the replica already equals, reports nothing: no
 * created/updated/destroyed ids, no sync_required, no more pages.
 */
export async function tokenProblems(api: MailboxApi, tokens: StateTokens): Promise<string | undefined> {
  const missing = SYNC_TYPES.filter((t) => tokens[t] === undefined);
  if (missing.length > 0) return `no stored token for ${missing.join(', ')}`;
  const input: Record<string, string | number> = { types: SYNC_TYPES.join(','), limit: 500 };
  for (const t of SYNC_TYPES) input[`${t}_since_state`] = tokens[t] as string;
  const res = await api.getChanges(input as Parameters<MailboxApi['getChanges']>[0], { retry: false });
  const data = res.data as { types?: Record<string, { created: string[]; updated: string[]; destroyed: string[]; sync_required?: boolean; has_more: boolean }> };
  if (!data.types) return 'changes answered the legacy shape';
  const problems: string[] = [];
  for (const t of SYNC_TYPES) {
    const ch = data.types[t];
    if (!ch) {
      problems.push(`${t}: missing from the response`);
      continue;
    }
    if (ch.sync_required) problems.push(`${t}: stored token needs sync_required`);
    const n = ch.created.length + ch.updated.length + ch.destroyed.length;
    if (n > 0 || ch.has_more) {
      problems.push(`${t}: stored token is behind (created ${ch.created.join(',')} updated ${ch.updated.join(',')} destroyed ${ch.destroyed.join(',')})`);
    }
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}
