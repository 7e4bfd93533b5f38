// The folder tree: system folders first, each folder followed by its children
// (parent_id), indented by depth. No unread badge for Trash and Junk.
import type { Folder } from './types.js';
import { folderTree, showsUnreadBadge } from './format.js';
import { Icon, folderIconName } from './Icon.js';

export function FolderList(props: { folders: Folder[]; selectedId: string | null; onSelect: (id: string) => void }) {
  const nodes = folderTree(props.folders);
  return (
    <nav className="folders" data-testid="folder-list" aria-label="Folders">
      {nodes.length === 0 &&
        Array.from({ length: 6 }, (_, i) => (
          <div key={i} className="folder skeleton-folder" aria-hidden>
            <span className="skeleton" />
          </div>
        ))}
      {nodes.map(({ folder: f, depth }) => (
        <button
          key={f.id}
          type="button"
          className={`folder ${f.id === props.selectedId ? 'selected' : ''}`}
          style={{ paddingLeft: 10 + depth * 16 }}
          data-testid="folder-item"
          data-folder-id={f.id}
          data-parent-id={f.parent_id ?? ''}
          data-depth={depth}
          data-role={f.role ?? ''}
          data-unread={f.unread_messages}
          title={f.name}
          onClick={() => props.onSelect(f.id)}
        >
          <Icon name={folderIconName(f.role)} className="folder-icon" />
          <span className="folder-name">{f.name}</span>
          {f.unread_messages > 0 && showsUnreadBadge(f) && (
            <span className="badge" data-testid="folder-unread">
              {f.unread_messages}
            </span>
          )}
        </button>
      ))}
    </nav>
  );
}
