// Display helpers.
import type { Address, Folder, Message } from './types.js';

export function senderName(from: Address | null): string {
  if (!from) return '(unknown sender)';
  return from.name?.trim() || from.email;
}

export function formatAddress(a: Address): string {
  return a.name ? `${a.name} <${a.email}>` : a.email;
}

/** "14:05" today, "Mar 3" this year, "2024-03-03" otherwise. */
export function shortDate(iso: string | null, now = new Date()): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  if (d.toDateString() === now.toDateString()) {
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }
  if (d.getFullYear() === now.getFullYear()) {
    return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  }
  return d.toISOString().slice(0, 10);
}

export function longDate(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
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

/** System folders in a familiar order, then custom folders by sort_order and name. */
export function sortFolders(folders: readonly Folder[]): Folder[] {
  const rank = (f: Folder) => {
    const i = f.role ? ROLE_ORDER.indexOf(f.role) : -1;
    return i === -1 ? ROLE_ORDER.length : i;
  };
  return [...folders].sort(
    (a, b) => rank(a) - rank(b) || (a.sort_order ?? 0) - (b.sort_order ?? 0) || a.name.localeCompare(b.name),
  );
}
