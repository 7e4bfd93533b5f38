/**
 * Gmail's shortcuts, where the Sendmux API allows them. Archive (`e`), Move to (`v`)
 * and restoring from Trash need moving a message between folders, which the API
 * cannot do (batch-update sets flags and keywords; batch-delete only moves to Trash).
 * A move to Trash can still be undone in its first 5 seconds: the engine holds the
 * request that long, and Undo cancels it before the server sees it.
 */
export const SHORTCUTS: [string, string][] = [
  ['j / k', 'Next / previous message'],
  ['o or Enter', 'Open message'],
  ['u', 'Toggle read / unread'],
  ['Shift+I', 'Mark as read'],
  ['Shift+U', 'Mark as unread'],
  ['s', 'Star / unstar'],
  ['#', 'Move to Trash (z undoes it within 5 s)'],
  ['l', 'Add a label'],
  ['z', 'Undo the last read, star or label change, or (within 5 s) the last trash or send'],
  ['x', 'Select / deselect'],
  ['r', 'Reply'],
  ['a', 'Reply all'],
  ['f', 'Forward'],
  ['c', 'Compose'],
  ['g then i', 'Go to Inbox'],
  ['g then s', 'Go to Sent'],
  ['g then t', 'Go to Trash'],
  ['/', 'Search'],
  ['Esc', 'Close / clear selection / back to the list'],
  ['?', 'This help'],
];

/** Gmail shortcuts left out because the API cannot do what they do. */
export const UNSUPPORTED: [string, string][] = [
  ['e', 'Archive'],
  ['v', 'Move to'],
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
        <p className="muted" data-testid="help-unsupported">
          Not available: {UNSUPPORTED.map(([k, what]) => `${what} (${k})`).join(', ')}, and restoring from Trash. The Sendmux API cannot move
          messages between folders, so a move to Trash can be undone only in its first 5 seconds (before it is sent).
        </p>
        <p className="muted">Ctrl/⌘-click or shift-click rows to select several; actions apply to the selection.</p>
      </div>
    </div>
  );
}
