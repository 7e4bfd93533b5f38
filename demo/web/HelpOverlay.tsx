export const SHORTCUTS: [string, string][] = [
  ['j / k', 'Next / previous message'],
  ['o or Enter', 'Open message'],
  ['e or #', 'Move to trash'],
  ['s', 'Flag / unflag'],
  ['u', 'Mark read / unread'],
  ['x', 'Select / deselect'],
  ['l', 'Add a label'],
  ['c', 'Compose'],
  ['r', 'Reply'],
  ['/', 'Search'],
  ['Esc', 'Close / clear selection'],
  ['?', 'This help'],
];

export function HelpOverlay(props: { onClose: () => void }) {
  return (
    <div className="modal-backdrop" onClick={props.onClose}>
      <div className="help" data-testid="help" role="dialog" aria-label="Keyboard shortcuts" onClick={(e) => e.stopPropagation()}>
        <header>
          <strong>Keyboard shortcuts</strong>
          <button type="button" className="ghost" onClick={props.onClose} aria-label="Close">
            ×
          </button>
        </header>
        <table>
          <tbody>
            {SHORTCUTS.map(([key, what]) => (
              <tr key={key}>
                <td>
                  <kbd>{key}</kbd>
                </td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted">Ctrl/⌘-click or shift-click rows to select several; actions apply to the selection.</p>
      </div>
    </div>
  );
}
