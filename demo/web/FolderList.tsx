import type { Folder } from './types.js';
import { sortFolders } from './format.js';
import { Icon, folderIconName } from './Icon.js';

export function FolderList(props: { folders: Folder[]; selectedId: string | null; onSelect: (id: string) => void }) {
  const folders = sortFolders(props.folders);
  return (
    <nav className="folders" data-testid="folder-list" aria-label="Folders">
      {folders.length === 0 && <div className="muted pad">Loading folders…</div>}
      {folders.map((f) => (
        <button
          key={f.id}
          type="button"
          className={`folder ${f.id === props.selectedId ? 'selected' : ''} ${f.parent_id ? 'child' : ''}`}
          data-testid="folder-item"
          data-folder-id={f.id}
          data-role={f.role ?? ''}
          data-unread={f.unread_messages}
          onClick={() => props.onSelect(f.id)}
        >
          <Icon name={folderIconName(f.role)} className="folder-icon" />
          <span className="folder-name">{f.name}</span>
          {f.unread_messages > 0 && (
            <span className="badge" data-testid="folder-unread">
              {f.unread_messages}
            </span>
          )}
        </button>
      ))}
    </nav>
  );
}
