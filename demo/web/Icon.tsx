// Inline SVG icons (emoji fonts are not everywhere, e.g. headless Chromium).
const PATHS: Record<string, string> = {
  inbox: 'M3 13h5l2 3h4l2-3h5M5.5 5h13L21 13v6H3v-6z',
  sent: 'M3 11l18-8-8 18-2-8z',
  drafts: 'M4 20h4L19 9l-4-4L4 16zM14 6l4 4',
  archive: 'M3 4h18v4H3zM5 8v12h14V8M10 12h4',
  trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13',
  junk: 'M12 3l9 16H3zM12 10v4M12 17v.5',
  folder: 'M3 6h6l2 2h10v11H3z',
  clip: 'M20 11l-8 8a5 5 0 0 1-7-7l8-8a3.5 3.5 0 0 1 5 5l-8 8a2 2 0 0 1-3-3l7-7',
  globe: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18',
  shield: 'M12 3l8 3v6c0 5-4 8-8 9-4-1-8-4-8-9V6z',
  reply: 'M10 8L4 13l6 5M4 13h10a6 6 0 0 1 6 6',
  compose: 'M4 20h4L19 9l-4-4L4 16z',
};

export type IconName = keyof typeof PATHS;

export function Icon(props: { name: string; size?: number; className?: string }) {
  const size = props.size ?? 16;
  return (
    <svg
      className={`icon ${props.className ?? ''}`}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden
    >
      <path d={PATHS[props.name] ?? PATHS.folder} />
    </svg>
  );
}

/** Icon name for a folder role. */
export function folderIconName(role: string | null): string {
  switch (role) {
    case 'inbox':
    case 'sent':
    case 'drafts':
    case 'archive':
    case 'trash':
      return role;
    case 'junk':
    case 'spam':
      return 'junk';
    default:
      return 'folder';
  }
}
