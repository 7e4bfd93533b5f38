// Display helpers.
import type { Address, Folder, Message } from './types.js';

export function senderName(from: Address | null): string {
  if (!from) return '(unknown sender)';
  return from.name?.trim() || from.email;
}

export function formatAddress(a: Address): string {
  return a.name ? `${a.name} <${a.email}>` : a.email;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The list's one date format, in local time: "14:05" today, "Mar 3" earlier this
 * year, "2024-03-03" before that (the same shape whatever the browser's locale).
 */
export function shortDate(iso: string | null, now = new Date()): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  if (d.toDateString() === now.toDateString()) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.getFullYear() === now.getFullYear()) return `${MONTHS[d.getMonth()] ?? ''} ${d.getDate()}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The full date for a title attribute and the reading pane: "2025-03-03 14:05". */
export function longDate(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formatBytes(n: number | null): string {
  if (n == null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function relativeTime(ms: number | null, now: number): string {
  if (ms == null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return new Date(ms).toLocaleTimeString();
}

export const isUnread = (m: Message): boolean => !m.flags.seen;

/** Custom labels: keywords that are not IMAP/JMAP system flags (`$seen`, `$flagged`, ...). */
export const labelsOf = (m: Message): string[] => m.keywords.filter((k) => !k.startsWith('$') && !k.startsWith('\\'));

const ROLE_ORDER = ['inbox', 'drafts', 'sent', 'archive', 'junk', 'spam', 'trash'];

const rank = (f: Folder) => {
  const i = f.role ? ROLE_ORDER.indexOf(f.role) : -1;
  return i === -1 ? ROLE_ORDER.length : i;
};
const byRank = (a: Folder, b: Folder) =>
  rank(a) - rank(b) || (a.sort_order ?? 0) - (b.sort_order ?? 0) || a.name.localeCompare(b.name);

/** A folder with its depth in the tree (0 for top level). */
export interface FolderNode {
  folder: Folder;
  depth: number;
}

/**
 * The folder tree, flattened depth-first: system folders in a familiar order, then
 * custom folders by sort_order and name, each followed by its children (`parent_id`).
 * A folder whose parent is missing is shown at the top level; a cycle cannot loop.
 */
export function folderTree(folders: readonly Folder[]): FolderNode[] {
  const ids = new Set(folders.map((f) => f.id));
  const children = new Map<string | null, Folder[]>();
  for (const f of folders) {
    const parent = f.parent_id && ids.has(f.parent_id) && f.parent_id !== f.id ? f.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), f]);
  }
  const out: FolderNode[] = [];
  const placed = new Set<string>();
  const walk = (parent: string | null, depth: number) => {
    for (const f of [...(children.get(parent) ?? [])].sort(byRank)) {
      if (placed.has(f.id)) continue;
      placed.add(f.id);
      out.push({ folder: f, depth });
      walk(f.id, depth + 1);
    }
  };
  walk(null, 0);
  // Folders only reachable through a cycle of parents: top level.
  for (const f of [...folders].sort(byRank)) if (!placed.has(f.id)) out.push({ folder: f, depth: 0 });
  return out;
}

/** Unread counts of Trash and Junk are noise: nobody needs to read them. */
export const showsUnreadBadge = (f: Folder): boolean => f.role !== 'trash' && f.role !== 'junk' && f.role !== 'spam';

/** Splits `text` into runs, marking those that match one of `terms` (case-insensitive). */
export function highlightRuns(text: string, terms: readonly string[]): { text: string; hit: boolean }[] {
  const words = terms.map((t) => t.trim()).filter((t) => t.length > 0);
  if (words.length === 0 || !text) return [{ text, hit: false }];
  const pattern = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'gi');
  return text
    .split(pattern)
    .filter((part) => part !== '')
    .map((part) => ({ text: part, hit: words.some((w) => w.toLowerCase() === part.toLowerCase()) }));
}
